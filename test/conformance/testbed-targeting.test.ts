import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';
import {
  evaluateWithEvaluator,
  evaluationSteps,
  type EvaluationWorld,
} from '../support/flagd-steps.js';
import { defineScenarios, loadPickles, reportAfterAll, Tally } from '../support/gherkin.js';
import { testbedDir, describeWithData } from '../support/shared-data.js';
import { EVALUATOR_TAGS, mergedTestbedFlags, SUPPLEMENT_FEATURES } from '../support/testbed.js';

// flagd-testbed/gherkin targeting.feature and evaluation.feature: the provider-level scenarios,
// whose setup is only "a flagd provider serving the testbed flags", run against the evaluator.
describeWithData(testbedDir, 'flagd-testbed targeting and evaluation suites', () => {
  const flags = mergedTestbedFlags(testbedDir as string);
  const steps = evaluationSteps(evaluateWithEvaluator)
    .define(/^an option "cache" of type "CacheType" with value "disabled"$/, () => {
      // RPC caching has no meaning for an in-process evaluator.
    })
    .define(/^a stable flagd provider$/, (w) => {
      w.evaluator.setConfiguration(flags);
    });
  const newWorld = (): EvaluationWorld => ({ evaluator: createEvaluator(), context: {} });
  const tally = new Tally('flagd-testbed gherkin targeting+evaluation');

  for (const feature of ['targeting.feature', 'evaluation.feature']) {
    describe(feature, () => {
      const pickles = loadPickles(join(testbedDir as string, 'gherkin', feature), EVALUATOR_TAGS);
      it('has scenarios', () => expect(pickles.length).toBeGreaterThan(10));
      defineScenarios(pickles, steps, tally, newWorld);
    });
  }
  for (const file of SUPPLEMENT_FEATURES) {
    describe(basename(file), () => {
      const pickles = loadPickles(file, EVALUATOR_TAGS);
      it('has scenarios', () => expect(pickles.length).toBeGreaterThan(0));
      defineScenarios(pickles, steps, tally, newWorld);
    });
  }

  reportAfterAll(tally);
});
