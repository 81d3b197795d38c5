import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluatorOptions } from '../../src/evaluator/index.js';
import {
  evaluateWithEvaluator,
  evaluationSteps,
  type EvaluationWorld,
} from '../support/flagd-steps.js';
import { defineScenarios, loadPickles, reportAfterAll, Tally } from '../support/gherkin.js';
import { testbedDir, describeWithData } from '../support/shared-data.js';
import {
  EVALUATOR_TAGS,
  EVALUATOR_V3_TAGS,
  mergedTestbedFlags,
  SUPPLEMENT_FEATURES,
} from '../support/testbed.js';

/**
 * flagd-testbed/gherkin targeting.feature and evaluation.feature (and rampflag's supplements): the
 * provider-level scenarios, whose setup is only "a flagd provider serving the testbed flags", run
 * against an evaluator made with `options`, those that match `tags`.
 */
function describeTestbed(title: string, tags: string, options: EvaluatorOptions): void {
  describeWithData(testbedDir, title, () => {
    const flags = mergedTestbedFlags(testbedDir as string);
    const steps = evaluationSteps(evaluateWithEvaluator)
      .define(/^an option "cache" of type "CacheType" with value "disabled"$/, () => {
        // RPC caching has no meaning for an in-process evaluator.
      })
      .define(/^a stable flagd provider$/, (w) => {
        w.evaluator.setConfiguration(flags);
      });
    const newWorld = (): EvaluationWorld => ({ evaluator: createEvaluator(options), context: {} });
    const features = ['targeting.feature', 'evaluation.feature']
      .map((feature) => join(testbedDir as string, 'gherkin', feature))
      .concat(SUPPLEMENT_FEATURES)
      .map((file) => ({ file, pickles: loadPickles(file, tags) }));
    const all = features.flatMap((feature) => feature.pickles);
    const version = `@fractional-${options.fractional ?? 'v2'}`;
    const vectors = all.filter((pickle) => pickle.tags.some((tag) => tag.name === version)).length;
    const tally = new Tally(`flagd-testbed gherkin ${title} (${vectors} of them ${version})`);
    for (const { file, pickles } of features) {
      if (pickles.length > 0)
        describe(basename(file), () => defineScenarios(pickles, steps, tally, newWorld));
    }
    it('has scenarios', () => expect(all.length).toBeGreaterThan(100));
    reportAfterAll(tally);
  });
}

describeTestbed('targeting+evaluation', EVALUATOR_TAGS, {});
// flagd's v3 bucketing (CBOR-encoded bucketing values), behind the evaluator option: its vectors in
// place of v2's, and every scenario that does not depend on the bucketing.
describeTestbed("targeting+evaluation, evaluator option fractional: 'v3'", EVALUATOR_V3_TAGS, {
  fractional: 'v3',
});
