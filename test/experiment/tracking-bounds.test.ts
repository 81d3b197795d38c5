import { describe, expect, it } from 'vitest';
import { analyzeExperiment, createTrackingRecorder, fromRecorder } from 'rampflag/experiment';

/** Every flag assigned by a function of the targeting key, as a provider's evaluator would. */
const assignments = (flags: string[], assign: (key: string) => string) => (key: string) => ({
  flags,
  assign: () => assign(key),
});
const half = (key: string) => (Number(key.split('-')[1]) % 2 === 0 ? 'a' : 'b');
const sum = (record: Readonly<Record<string, number>>) =>
  Object.values(record).reduce((a, b) => a + b, 0);

describe('tracking bounds', () => {
  it('counts each user once however often they are exposed', () => {
    const tracking = createTrackingRecorder();
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 50_000; i++) {
        const key = `user-${i}`;
        tracking.exposure('f', half(key), { targetingKey: key });
      }
    const exposed = sum(tracking.totals('f').assignment);
    // 32-bit hashes: among 50,000 users a collision is possible, not likely
    expect(exposed).toBeGreaterThanOrEqual(49_998);
    expect(exposed).toBeLessThanOrEqual(50_000);
  });

  it('stops counting users past maxUsersPerFlag, says so, and keeps counting events', () => {
    const tracking = createTrackingRecorder({ maxUsersPerFlag: 1000 });
    const of = assignments(['f', 'g'], half);
    for (let i = 0; i < 3000; i++) {
      const key = `user-${i}`;
      tracking.exposure('f', half(key), { targetingKey: key });
      tracking.event('buy', { targetingKey: key }, { value: 1 }, of(key));
    }
    const f = tracking.totals('f');
    expect(sum(f.assignment)).toBe(1000);
    expect(f.overflowed).toBe(true);
    const buy = f.metrics.find((m) => m.metric === 'buy')?.variants ?? [];
    expect(buy.reduce((n, v) => n + v.conversions, 0)).toBe(1000);
    const value = f.metrics.find((m) => m.metric === 'buy.value')?.variants ?? [];
    expect(value.reduce((n, v) => n + (v.valueSum ?? 0), 0)).toBe(1000);
    expect(sum(f.events['buy'] ?? {})).toBe(3000);
    // each flag has its own bound
    expect(tracking.totals('g').overflowed).toBe(true);
    expect(tracking.totals('other').overflowed).toBe(false);
  });

  it('keeps converters among their variant’s users: a user tracked but never evaluated here is assigned too', () => {
    const tracking = createTrackingRecorder({ maxUsersPerFlag: 1000 });
    const of = assignments(['f'], half);
    // 500 users evaluated; 3000 users buy, most of them never evaluated in this process
    for (let i = 0; i < 500; i++)
      tracking.exposure('f', half(`user-${i}`), { targetingKey: `user-${i}` });
    for (let i = 0; i < 3000; i++)
      tracking.event('buy', { targetingKey: `user-${i}` }, { value: 1 }, of(`user-${i}`));
    const totals = tracking.totals('f');
    expect(sum(totals.assignment)).toBe(1000);
    expect(totals.overflowed).toBe(true);
    for (const m of totals.metrics)
      for (const v of m.variants) {
        expect(v.conversions).toBeLessThanOrEqual(v.users);
        expect(v.users).toBe(totals.assignment[v.variant]);
      }
    const buy = totals.metrics.find((m) => m.metric === 'buy')?.variants ?? [];
    expect(buy.reduce((n, v) => n + v.conversions, 0)).toBe(1000);
    expect(() => analyzeExperiment(fromRecorder(tracking, 'f', { control: 'a' }))).not.toThrow();
  });

  it('holds a million users in a few MiB of typed arrays, and nothing more past the bound', () => {
    const tracking = createTrackingRecorder(); // maxUsersPerFlag 1,000,000
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 1_000_000; i++) tracking.exposure('f', 'a', { targetingKey: `u-${i}` });
    const held = process.memoryUsage().arrayBuffers - before;
    // 2^21 four-byte slots (8 MiB), plus the smaller tables left behind by growth until collected
    expect(held).toBeLessThan(17 * 2 ** 20);
    for (let i = 1_000_000; i < 1_200_000; i++)
      tracking.exposure('f', 'b', { targetingKey: `u-${i}` });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(held + 2 ** 20);
    const totals = tracking.totals('f');
    expect(totals.overflowed).toBe(true);
    expect(sum(totals.assignment)).toBeLessThanOrEqual(1_000_000);
  });

  it('keeps event names few: an allowlist, or the first maxEvents names', () => {
    const of = assignments(['f'], () => 'a');
    const firstTwo = createTrackingRecorder({ maxEvents: 2 });
    for (const name of [
      'view',
      'buy',
      'refund',
      'view',
      'x'.repeat(65),
      '',
      7 as unknown as string,
    ])
      firstTwo.event(name, { targetingKey: 'u' }, {}, of('u'));
    expect(Object.keys(firstTwo.totals('f').events)).toEqual(['buy', 'view']);
    expect(firstTwo.diagnostics()).toMatchObject({ events: 3, dropped: 4 });

    const listed = createTrackingRecorder({ events: ['buy'] });
    for (const name of ['view', 'buy']) listed.event(name, { targetingKey: 'u' }, {}, of('u'));
    expect(Object.keys(listed.totals('f').events)).toEqual(['buy']);
    expect(listed.diagnostics()).toMatchObject({ events: 1, dropped: 1 });
  });

  it('ignores a value that would make a sum or a sum of squares overflow, and counts it as ignored', () => {
    const tracking = createTrackingRecorder();
    const of = assignments(['f'], () => 'a');
    tracking.exposure('f', 'a', { targetingKey: 'u-0' });
    const buy = (user: string, value: number) =>
      tracking.event('buy', { targetingKey: user }, { value }, of(user));
    buy('u-1', 1e308); // its square overflows
    buy('u-1', 1e150);
    buy('u-1', 2);
    buy('u-2', 1e154);
    buy('u-2', 1e154); // u-2's total squared overflows
    buy('u-3', 1e154); // the sum of squares over users overflows
    expect(tracking.diagnostics()).toMatchObject({ events: 6, ignoredValues: 3 });
    const value = tracking.totals('f').metrics.find((m) => m.metric === 'buy.value');
    const a = value?.variants.find((v) => v.variant === 'a');
    expect(a?.valueSum).toBe(1e150 + 2 + 1e154);
    expect(Number.isFinite(a?.valueSumSquares)).toBe(true);
    expect(tracking.totals('f').events['buy']).toEqual({ a: 6 });
    expect(() => analyzeExperiment(fromRecorder(tracking, 'f', { control: 'a' }))).toThrow(
      /only the control has counts/,
    );
  });

  it('keeps events of any name: __proto__ and constructor are events like others', () => {
    const tracking = createTrackingRecorder();
    const of = assignments(['f'], () => 'a');
    for (const name of ['__proto__', 'constructor', '__proto__'])
      tracking.event(name, { targetingKey: 'u' }, {}, of('u'));
    const totals = tracking.totals('f');
    expect(Object.entries(totals.events)).toEqual([
      ['__proto__', { a: 2 }],
      ['constructor', { a: 1 }],
    ]);
    expect(totals.metrics.map((m) => m.metric)).toEqual(['__proto__', 'constructor']);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => createTrackingRecorder({ maxUsersPerFlag: 0 })).toThrow(RangeError);
    expect(() => createTrackingRecorder({ maxUsersPerFlag: 1.5 })).toThrow(/maxUsersPerFlag/);
    expect(() => createTrackingRecorder({ maxEvents: -1 })).toThrow(/maxEvents/);
  });

  it('never throws, whatever it is handed', () => {
    const tracking = createTrackingRecorder({
      requestScope: () => {
        throw new Error('no scope');
      },
    });
    const broken = {
      flags: ['f'],
      assign: () => {
        throw new Error('no evaluator');
      },
    };
    expect(() => {
      tracking.exposure('f', 'a', null as never);
      tracking.event('buy', undefined as never, undefined as never, broken);
    }).not.toThrow();
  });
});
