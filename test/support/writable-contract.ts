import { afterEach, describe, expect, it } from 'vitest';
import { FlagdProvider, isWriteConflictError, type WritableFlagSource } from 'rampflag';
import { clientFor } from './provider-events.js';

/** A writable source under test. */
export interface WritableHarness {
  /** A source whose stored configuration is exactly `text` (JSON, or YAML when `yaml`). */
  create(text: string): Promise<WritableFlagSource>;
  /** Whether the source stores YAML (a file does; the in-memory source holds JSON). */
  readonly yaml: boolean;
  /** Clean-up after each test. */
  cleanup?(): Promise<void>;
}

const flag = (value: string) => ({
  state: 'ENABLED',
  variants: { c: value, x: 'x' },
  defaultVariant: 'c',
});
const doc = (color: string, extra: Record<string, unknown> = {}) => ({
  flags: { color: flag(color), ...extra },
});
const json = (value: unknown) => JSON.stringify(value);

/**
 * What every writable source must do (the admin API and the rollout controller rely on it): keep
 * what people wrote (format, comments), compare-and-swap against what is stored at the moment of
 * writing, serialise writes, and deliver what was written as any change.
 */
export function describeWritableSource(name: string, harness: WritableHarness): void {
  describe(`${name}: the writable-source contract`, () => {
    const providers: FlagdProvider[] = [];
    afterEach(async () => {
      await Promise.all(providers.splice(0).map((p) => p.onClose()));
      await harness.cleanup?.();
    });

    it('reads back exactly what is stored', async () => {
      const text = JSON.stringify(doc('red'), null, 3) + '\n';
      const source = await harness.create(text);
      expect(await source.read()).toBe(text);
    });

    it.each([
      ['2 spaces', '  ', true],
      ['4 spaces', '    ', true],
      ['tabs', '\t', false],
      ['one line', '', false],
    ])('keeps JSON indented with %s, and its final newline or none', async (_, indent, nl) => {
      const stored = JSON.stringify(doc('red'), null, indent) + (nl ? '\n' : '');
      const source = await harness.create(stored);
      await source.write(json(doc('blue')));
      expect(await source.read()).toBe(
        JSON.stringify(doc('blue'), null, indent) + (nl ? '\n' : ''),
      );
    });

    it('changes one line of pretty JSON when one flag value changes', async () => {
      const stored = JSON.stringify(doc('red', { other: flag('o') }), null, 2) + '\n';
      const source = await harness.create(stored);
      await source.write(json(doc('blue', { other: flag('o') })));
      const before = stored.split('\n');
      const after = (await source.read()).split('\n');
      expect(after).toHaveLength(before.length);
      expect(after.filter((line, i) => line !== before[i])).toEqual(['        "c": "blue",']);
    });

    it.runIf(harness.yaml)(
      'keeps YAML as YAML with its comments, changing only what changed',
      async () => {
        const stored = [
          '# Flags of the shop: edit with care',
          'flags:',
          '  # the colour of the buy button',
          '  color:',
          '    state: ENABLED # the kill switch',
          '    variants:',
          '      c: red',
          '      x: x',
          '    defaultVariant: c',
          '  gone:',
          '    state: DISABLED',
          '    variants: { a: 1 }',
          '    defaultVariant: a',
          '',
        ].join('\n');
        const source = await harness.create(stored);
        await source.write(json(doc('blue', { added: { ...flag('n'), state: 'DISABLED' } })));
        expect(await source.read()).toBe(
          [
            '# Flags of the shop: edit with care',
            'flags:',
            '  # the colour of the buy button',
            '  color:',
            '    state: ENABLED # the kill switch',
            '    variants:',
            '      c: blue',
            '      x: x',
            '    defaultVariant: c',
            '  added:',
            '    state: DISABLED',
            '    variants:',
            '      c: n',
            '      x: x',
            '    defaultVariant: c',
            '',
          ].join('\n'),
        );
      },
    );

    it('writes with `expected` when what is stored is still exactly that', async () => {
      const source = await harness.create(json(doc('red')));
      await source.write(json(doc('blue')), { expected: await source.read() });
      expect(JSON.parse(await source.read())).toEqual(doc('blue'));
    });

    it('rejects a write with a stale `expected` as a WriteConflictError, and writes nothing', async () => {
      const source = await harness.create(json(doc('red')));
      const seen = await source.read();
      await source.write(json(doc('green')));
      const error: unknown = await source
        .write(json(doc('blue')), { expected: seen })
        .catch((e: unknown) => e);
      expect(isWriteConflictError(error)).toBe(true);
      expect((error as Error).name).toBe('WriteConflictError');
      expect(JSON.parse(await source.read())).toEqual(doc('green'));
    });

    it('lets exactly one of many concurrent writes from the same read win', async () => {
      const source = await harness.create(json(doc('red')));
      const expected = await source.read();
      const colors = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      const results = await Promise.allSettled(
        colors.map((c) => source.write(json(doc(c)), { expected })),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [colors[i]] : []));
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(isWriteConflictError(r.reason)).toBe(true);
      expect(JSON.parse(await source.read())).toEqual(doc(won[0] as string));
    });

    it('applies concurrent writes one after another, in the order they were made', async () => {
      const source = await harness.create(json(doc('red')));
      await Promise.all(['a', 'b', 'c', 'd'].map((c) => source.write(json(doc(c)))));
      expect(JSON.parse(await source.read())).toEqual(doc('d'));
    });

    it('delivers what was written to a provider reading it', async () => {
      const source = await harness.create(JSON.stringify(doc('red'), null, 2));
      const provider = new FlagdProvider({ source });
      providers.push(provider);
      const { client } = await clientFor(provider);
      expect(await client.getStringValue('color', '')).toBe('red');
      await source.write(json(doc('blue')), { expected: await source.read() });
      const deadline = Date.now() + 3000;
      while ((await client.getStringValue('color', '')) !== 'blue' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await client.getStringValue('color', '')).toBe('blue');
    });
  });
}
