import { afterEach, describe, expect, it } from 'vitest';
import { isWriteConflictError, type FlagdProvider } from 'rampflag';
import { updateFlag, type FlagJson, type FlagWriter } from '../../src/rollout/writers.js';
import { clientFor } from './provider-events.js';

/** A store under test, and a writer over it. */
export interface WriterFixture {
  readonly writer: FlagWriter;
  /** The configuration exactly as stored (a file's text). */
  stored(): Promise<string>;
  /** Someone else replaces the configuration (JSON text) behind the writer's back. */
  meddle(configuration: string): Promise<void>;
  /** A provider reading the store as an application does. */
  provider(): FlagdProvider;
}

/** How to make a store holding some text, for one kind of writer. */
export interface WriterHarness {
  /** A store holding exactly `text` (JSON, or YAML when `yaml`) and a writer over it. */
  create(text: string): Promise<WriterFixture>;
  /** Whether the store keeps YAML (a file does, also behind the admin API). */
  readonly yaml: boolean;
  /** Clean-up after each test. */
  cleanup?(): Promise<void>;
}

const express = (on: number) => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: {
    if: [
      { in: [{ var: 'ring' }, ['internal']] },
      'on',
      { fractional: [{ var: 'targetingKey' }, ['on', on], ['off', 100 - on]] },
    ],
  },
});
const color = (value: string) => ({
  state: 'ENABLED',
  variants: { c: value, x: 'x' },
  defaultVariant: 'c',
});
const doc = (on: number, colour = 'red') => ({
  flags: { express: express(on), color: color(colour) },
  metadata: { flagSetId: 'shop' },
  $evaluators: { internal: { in: [{ var: 'ring' }, ['internal']] } },
});
const json = (value: unknown) => JSON.stringify(value);
const parsed = async (writer: FlagWriter) => JSON.parse((await writer.read()).configuration);

/** `flag` with its `fractional` giving `on` % to "on". */
const withWeight = (flag: FlagJson, on: number): FlagJson => ({
  ...flag,
  targeting: express(on).targeting,
});

/**
 * What every flag writer must do for the rollout controller: read the whole configuration as JSON
 * with a version, write compare-and-swap against it (a change by someone else in between is a
 * WriteConflictError and nothing is written), let `updateFlag` change one flag and nothing else,
 * retrying after a conflict, keep what people wrote, and reach the providers reading the store.
 */
export function describeFlagWriter(name: string, harness: WriterHarness): void {
  describe(`${name}: the flag-writer contract`, () => {
    const providers: FlagdProvider[] = [];
    afterEach(async () => {
      await Promise.all(providers.splice(0).map((p) => p.onClose()));
      await harness.cleanup?.();
    });

    it('reads the configuration as JSON, with a version that stays while nothing changes', async () => {
      const { writer } = await harness.create(JSON.stringify(doc(1), null, 2) + '\n');
      const first = await writer.read();
      expect(JSON.parse(first.configuration)).toEqual(doc(1));
      expect((await writer.read()).version).toBe(first.version);
      expect(writer.target).toMatch(/\S/);
    });

    it('writes a configuration read back with the version the write gave', async () => {
      const { writer } = await harness.create(json(doc(1)));
      const { version } = await writer.read();
      const written = await writer.write(json(doc(5)), version);
      const read = await writer.read();
      expect(JSON.parse(read.configuration)).toEqual(doc(5));
      expect(read.version).toBe(written.version);
      expect(written.version).not.toBe(version);
    });

    it('refuses a write over a change made by someone else since the read, and writes nothing', async () => {
      const fixture = await harness.create(json(doc(1)));
      const { version } = await fixture.writer.read();
      await fixture.meddle(json(doc(1, 'green')));
      const stored = await fixture.stored();
      const error: unknown = await fixture.writer
        .write(json(doc(5)), version)
        .catch((e: unknown) => e);
      expect(isWriteConflictError(error)).toBe(true);
      expect(await fixture.stored()).toBe(stored);
      expect(await parsed(fixture.writer)).toEqual(doc(1, 'green'));
    });

    it('refuses a second write from the same version', async () => {
      const { writer } = await harness.create(json(doc(1)));
      const { version } = await writer.read();
      await writer.write(json(doc(5)), version);
      const error: unknown = await writer.write(json(doc(25)), version).catch((e: unknown) => e);
      expect(isWriteConflictError(error)).toBe(true);
      expect(await parsed(writer)).toEqual(doc(5));
    });

    it('refuses a configuration the evaluator refuses, and writes nothing', async () => {
      const fixture = await harness.create(JSON.stringify(doc(1), null, 2));
      const stored = await fixture.stored();
      const error: unknown = await updateFlag(fixture.writer, 'express', (flag) => ({
        ...flag,
        state: 'MAYBE',
      })).catch((e: unknown) => e);
      expect(isWriteConflictError(error)).toBe(false);
      expect((error as Error).message).toMatch(/state/);
      expect(await fixture.stored()).toBe(stored);
    });

    it('updateFlag changes one flag and leaves every other flag, the metadata and $evaluators as they were', async () => {
      const { writer } = await harness.create(json(doc(1)));
      const result = await updateFlag(writer, 'express', (flag) => withWeight(flag, 5));
      expect(result).toMatchObject({ before: express(1), after: express(5), changed: true });
      expect(result.version).toBe((await writer.read()).version);
      expect(await parsed(writer)).toEqual(doc(5));
    });

    it('updateFlag writes nothing when the update gives no change', async () => {
      const fixture = await harness.create(JSON.stringify(doc(1), null, 2));
      const stored = await fixture.stored();
      const { version } = await fixture.writer.read();
      const none = await updateFlag(fixture.writer, 'express', () => undefined);
      expect(none).toEqual({ before: express(1), after: express(1), changed: false, version });
      const same = await updateFlag(fixture.writer, 'express', (flag) => ({ ...flag }));
      expect(same.changed).toBe(false);
      expect(await fixture.stored()).toBe(stored);
    });

    it('updateFlag retries when the store changes between its read and its write', async () => {
      const fixture = await harness.create(json(doc(1)));
      const seen: number[] = [];
      const writer: FlagWriter = {
        target: fixture.writer.target,
        read: () => fixture.writer.read(),
        async write(configuration, version) {
          if (seen.length === 1) await fixture.meddle(json(doc(1, 'green'))); // the race, once
          return fixture.writer.write(configuration, version);
        },
      };
      const result = await updateFlag(writer, 'express', (flag) => {
        seen.push(seen.length);
        return withWeight(flag, 5);
      });
      expect(seen).toEqual([0, 1]);
      expect(result).toMatchObject({ before: express(1), after: express(5), changed: true });
      expect(await parsed(fixture.writer)).toEqual(doc(5, 'green'));
    });

    it('updateFlag gives up after its retries with a WriteConflictError', async () => {
      const fixture = await harness.create(json(doc(1)));
      let calls = 0;
      const writer: FlagWriter = {
        target: fixture.writer.target,
        read: () => fixture.writer.read(),
        async write(configuration, version) {
          await fixture.meddle(json(doc(1, `c${calls}`))); // someone always gets there first
          return fixture.writer.write(configuration, version);
        },
      };
      const error: unknown = await updateFlag(
        writer,
        'express',
        (flag) => {
          calls += 1;
          return withWeight(flag, 5);
        },
        { retries: 2 },
      ).catch((e: unknown) => e);
      expect(isWriteConflictError(error)).toBe(true);
      expect((error as Error).message).toMatch(/3 attempts/);
      expect(calls).toBe(3);
      expect((await parsed(fixture.writer)).flags.express).toEqual(express(1));
    });

    it('updateFlag names a flag that is not there', async () => {
      const { writer } = await harness.create(json(doc(1)));
      await expect(updateFlag(writer, 'nope', (flag) => flag)).rejects.toThrow(
        /no flag "nope" in /,
      );
    });

    it('changes one line per changed value in pretty-printed JSON', async () => {
      const fixture = await harness.create(JSON.stringify(doc(1), null, 2) + '\n');
      const before = (await fixture.stored()).split('\n');
      await updateFlag(fixture.writer, 'express', (flag) => withWeight(flag, 5));
      const after = (await fixture.stored()).split('\n');
      expect(after).toHaveLength(before.length);
      const changed = after.flatMap((line, i) => (line === before[i] ? [] : [[before[i], line]]));
      expect(changed).toEqual([
        ['                1', '                5'],
        ['                99', '                95'],
      ]);
    });

    it.runIf(harness.yaml)(
      'keeps YAML as YAML with its comments, one line per changed value',
      async () => {
        const yaml = [
          '# the shop: edit with care',
          'flags:',
          '  # rolled out by rampflag',
          '  express:',
          '    state: ENABLED',
          '    variants:',
          '      "on": true',
          '      "off": false',
          '    defaultVariant: "off" # the safe variant',
          '    targeting:',
          '      if:',
          '        - in:',
          '            - var: ring',
          '            - - internal',
          '        - "on"',
          '        - fractional:',
          '            - var: targetingKey',
          '            - - "on"',
          '              - 1 # the treatment',
          '            - - "off"',
          '              - 99',
          '  # untouched',
          '  color:',
          '    state: ENABLED',
          '    variants: { c: red, x: x }',
          '    defaultVariant: c',
          '',
        ].join('\n');
        const fixture = await harness.create(yaml);
        const { configuration } = await fixture.writer.read();
        expect(JSON.parse(configuration).flags.express).toEqual(express(1));
        await updateFlag(fixture.writer, 'express', (flag) => withWeight(flag, 5));
        expect(await fixture.stored()).toBe(
          yaml.replace('- 1 # the', '- 5 # the').replace('- 99', '- 95'),
        );
      },
    );

    it.runIf(harness.yaml)(
      'keeps flow sequences and comments after keys as written: a step is a one-line diff',
      async () => {
        const yaml = [
          'flags:',
          '  express: # rolled out by rampflag',
          '    state: ENABLED',
          '    variants: { "on": true, "off": false }',
          '    defaultVariant: "off"',
          '    targeting:',
          '      fractional: [{ var: targetingKey }, ["on", 1], ["off", 99]]',
          '',
        ].join('\n');
        const fixture = await harness.create(yaml);
        await updateFlag(fixture.writer, 'express', (flag) => ({
          ...flag,
          targeting: { fractional: [{ var: 'targetingKey' }, ['on', 5], ['off', 95]] },
        }));
        expect(await fixture.stored()).toBe(
          yaml.replace('["on", 1], ["off", 99]', '["on", 5], ["off", 95]'),
        );
      },
    );

    it('reaches the providers reading the store', async () => {
      const fixture = await harness.create(JSON.stringify(doc(1), null, 2));
      const provider = fixture.provider();
      providers.push(provider);
      const { client } = await clientFor(provider);
      expect(await client.getStringValue('color', '')).toBe('red');
      await updateFlag(fixture.writer, 'color', (flag) => ({
        ...flag,
        variants: color('blue').variants,
      }));
      const deadline = Date.now() + 5000;
      while ((await client.getStringValue('color', '')) !== 'blue' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await client.getStringValue('color', '')).toBe('blue');
    });
  });
}
