import { readFileSync } from 'node:fs';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { afterAll, expect, it } from 'vitest';
import { IdGenerator, type Pickle } from '@cucumber/messages';
import parseTagExpression from '@cucumber/tag-expressions';

/** The scenarios (pickles) of a feature file that match a tag expression. */
export function loadPickles(path: string, tagExpression: string): Pickle[] {
  const newId = IdGenerator.incrementing();
  const parser = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher());
  const document = parser.parse(readFileSync(path, 'utf8'));
  const filter = parseTagExpression(tagExpression);
  return compile(document, path, newId).filter((pickle) =>
    filter.evaluate(pickle.tags.map((tag) => tag.name)),
  );
}

export type StepHandler<W> = (
  world: W,
  args: string[],
  table: string[][] | undefined,
) => void | Promise<void>;

/** A table of step patterns; each pattern's groups become the handler's arguments. */
export class Steps<W> {
  readonly #steps: [RegExp, StepHandler<W>][] = [];

  define(pattern: RegExp, handler: StepHandler<W>): this {
    this.#steps.push([pattern, handler]);
    return this;
  }

  /** Runs every step of a pickle in order; an unknown step fails the scenario. */
  async run(pickle: Pickle, world: W): Promise<void> {
    for (const step of pickle.steps) {
      const found = this.#steps.find(([pattern]) => pattern.test(step.text));
      if (found === undefined) throw new Error(`no step definition for "${step.text}"`);
      const [pattern, handler] = found;
      // A quoted step argument escapes its quotes as \" (gherkin itself leaves them alone).
      const args = (pattern.exec(step.text) as RegExpExecArray)
        .slice(1)
        .map((arg) => arg?.replaceAll('\\"', '"') ?? '');
      const rows = step.argument?.dataTable?.rows.map((row) => row.cells.map((cell) => cell.value));
      await handler(world, args, rows);
    }
  }
}

/** Counts scenarios and prints them when the suite ends, so CI logs show what ran. */
export class Tally {
  ran = 0;
  passed = 0;
  constructor(readonly name: string) {}
  report(): void {
    console.log(`${this.name}: ${this.ran} scenarios ran, ${this.passed} passed`);
  }
}

/**
 * Declares one test per scenario, each run by `steps` in a fresh world, counted into `tally`;
 * `after` (closing a provider, say) runs whether the scenario passed or not.
 */
export function defineScenarios<W>(
  pickles: readonly Pickle[],
  steps: Steps<W>,
  tally: Tally,
  newWorld: () => W,
  after?: (world: W) => Promise<void>,
): void {
  for (const pickle of pickles) {
    it(pickle.name, async () => {
      tally.ran++;
      const world = newWorld();
      try {
        await steps.run(pickle, world);
      } finally {
        await after?.(world);
      }
      tally.passed++;
    });
  }
}

/** Reports `tally` after the suite and fails it unless every scenario passed. */
export function reportAfterAll(tally: Tally): void {
  afterAll(() => {
    tally.report();
    expect(tally.passed).toBe(tally.ran);
  });
}
