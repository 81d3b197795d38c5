import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';
import { evaluationSteps, type EvaluationWorld } from '../support/flagd-steps.js';
import { loadPickles, Tally } from '../support/gherkin.js';
import { testbedDir } from '../support/shared-data.js';
import { EVALUATOR_TAGS } from '../support/testbed.js';

// flagd-testbed/evaluator/gherkin: the pure evaluator suites, against testkit-flags.json.
describe.runIf(testbedDir !== undefined)('flagd-testbed evaluator suites', () => {
  const dir = join(testbedDir as string, 'evaluator');
  const flags = readFileSync(join(dir, 'flags', 'testkit-flags.json'), 'utf8');
  const steps = evaluationSteps().define(/^an evaluator$/, (w) => {
    w.evaluator.setConfiguration(flags);
  });
  const tally = new Tally('flagd-testbed evaluator/gherkin');
  const features = readdirSync(join(dir, 'gherkin')).filter((f) => f.endsWith('.feature'));

  it('has all 11 feature files', () => {
    expect(features).toHaveLength(11);
  });

  for (const feature of features) {
    describe(feature, () => {
      for (const pickle of loadPickles(join(dir, 'gherkin', feature), EVALUATOR_TAGS)) {
        it(pickle.name, () => {
          tally.ran++;
          const world: EvaluationWorld = { evaluator: createEvaluator(), context: {} };
          steps.run(pickle, world);
          tally.passed++;
        });
      }
    });
  }

  afterAll(() => {
    tally.report();
    expect(tally.passed).toBe(tally.ran);
  });
});
