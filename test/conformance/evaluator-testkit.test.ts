import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';
import {
  evaluateWithEvaluator,
  evaluationSteps,
  type EvaluationWorld,
} from '../support/flagd-steps.js';
import { defineScenarios, loadPickles, reportAfterAll, Tally } from '../support/gherkin.js';
import { testbedDir, describeWithData } from '../support/shared-data.js';
import { EVALUATOR_TAGS } from '../support/testbed.js';

// flagd-testbed/evaluator/gherkin: the pure evaluator suites, against testkit-flags.json.
describeWithData(testbedDir, 'flagd-testbed evaluator suites', () => {
  const dir = join(testbedDir as string, 'evaluator');
  const flags = readFileSync(join(dir, 'flags', 'testkit-flags.json'), 'utf8');
  const steps = evaluationSteps(evaluateWithEvaluator).define(/^an evaluator$/, (w) => {
    w.evaluator.setConfiguration(flags);
  });
  const newWorld = (): EvaluationWorld => ({ evaluator: createEvaluator(), context: {} });
  const tally = new Tally('flagd-testbed evaluator/gherkin');
  const features = readdirSync(join(dir, 'gherkin')).filter((f) => f.endsWith('.feature'));

  it('has all 11 feature files', () => {
    expect(features).toHaveLength(11);
  });

  for (const feature of features) {
    describe(feature, () => {
      defineScenarios(
        loadPickles(join(dir, 'gherkin', feature), EVALUATOR_TAGS),
        steps,
        tally,
        newWorld,
      );
    });
  }

  reportAfterAll(tally);
});
