import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { analyzeExperiment } from '../../src/experiment/analyze.js';
import { fromCountsFile, fromCsv } from '../../src/experiment/counts-file.js';
import { fromPrometheus } from '../../src/experiment/prometheus-reader.js';
import { expectedSharesOf, fromRecorder } from '../../src/experiment/recorder-reader.js';
import { createTrackingRecorder } from '../../src/experiment/tracking.js';
import { fakeExperimentPrometheus } from '../support/fake-experiment-prometheus.js';
import { stopsAfterEach } from '../support/scratch.js';

const stops = stopsAfterEach();

const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as Error & { kind?: string };
  }
  throw new Error('did not throw');
};

describe('fromCountsFile: CSV', () => {
  const csv = [
    'metric,variant,users,conversions,value_sum,value_sum_squares',
    'purchase,off,10000,1000,,',
    'purchase,on,10000,1100,,',
    'revenue,off,10000,1000,45000.5,4100000',
    'revenue,on,10000,1100,"51000",4900000',
    '',
  ].join('\n');

  it('reads a metric per name: a conversion, or a mean where it has value sums', () => {
    const data = fromCountsFile(csv, { flag: 'checkout' });
    expect(data).toEqual({
      flag: 'checkout',
      control: 'off',
      metrics: [
        {
          metric: 'purchase',
          kind: 'conversion',
          variants: [
            { variant: 'off', users: 10_000, conversions: 1_000 },
            { variant: 'on', users: 10_000, conversions: 1_100 },
          ],
        },
        {
          metric: 'revenue',
          kind: 'mean',
          variants: [
            {
              variant: 'off',
              users: 10_000,
              conversions: 1_000,
              valueSum: 45_000.5,
              valueSumSquares: 4_100_000,
            },
            {
              variant: 'on',
              users: 10_000,
              conversions: 1_100,
              valueSum: 51_000,
              valueSumSquares: 4_900_000,
            },
          ],
        },
      ],
    });
    expect(analyzeExperiment(data).comparisons).toHaveLength(2);
  });

  it('takes the columns in any order, a kind column, quoted names, CRLF, comments and a BOM', () => {
    const text =
      '\uFEFFvariant,Metric,conversions,users,kind\r\n# a comment\r\non,"add, to cart",30,100,conversion\r\noff,"add, to cart",20,100,conversion\r\n';
    const data = fromCsv(text.replace(/^\uFEFF/, ''), { control: 'off' });
    expect(data.control).toBe('off');
    expect(data.flag).toBe('experiment');
    expect(data.metrics[0]?.metric).toBe('add, to cart');
    expect(data.metrics[0]?.variants.map((v) => v.variant)).toEqual(['on', 'off']);
    expect(fromCountsFile(text).metrics[0]?.variants[0]).toEqual({
      variant: 'on',
      users: 100,
      conversions: 30,
    });
  });

  it.each([
    [
      'metric,variant,users\npurchase,off,10',
      /^line 1: the header needs metric,variant,users,conversions .*missing conversions$/,
    ],
    [
      'metric,variant,users,conversions\npurchase,off,10,1\npurchase,on,ten,1',
      /^line 3, field users: "ten" is not a number$/,
    ],
    [
      'metric,variant,users,conversions\npurchase,off,10,1\npurchase,on,10,1.5',
      /^line 3, field conversions: "1\.5" is not a count/,
    ],
    [
      'metric,variant,users,conversions\npurchase,off,10,-1',
      /^line 2, field conversions: "-1" is not a count/,
    ],
    ['metric,variant,users,conversions\npurchase,,10,1', /^line 2, field variant: empty$/],
    [
      'metric,variant,users,conversions\npurchase,off,0x10,1',
      /^line 2, field users: "0x10" is not a number$/,
    ],
    [
      'metric,variant,users,conversions,value_sum,value_sum_squares\np,off,10,1,0b11,9',
      /^line 2, field value_sum: "0b11" is not a number$/,
    ],
    [
      'metric,variant,users,conversions\npurchase,off,10,1\npurchase,off,10,1',
      /^line 3: metric "purchase", variant "off" is given twice$/,
    ],
    ['metric,variant,users,conversions\n"purchase,off,10,1', /^line 2: unbalanced quotes$/],
    [
      'metric,variant,users,conversions,kind\np,off,10,1,mean',
      /^line 2: a mean metric needs value_sum and value_sum_squares$/,
    ],
    [
      'metric,variant,users,conversions,kind\np,off,10,1,ratio',
      /^line 2, field kind: "ratio" is not conversion or mean$/,
    ],
    ['metric,variant,users,conversions\n', /^the counts file has no rows$/],
    ['  \n', /^the counts file is empty$/],
  ])('names the line and field of a bad row: %j', (text, message) => {
    const error = failure(() => fromCountsFile(text));
    expect(error.name).toBe('ExperimentSourceError');
    expect(error.message).toMatch(message);
  });
});

describe('fromCountsFile: JSON', () => {
  const doc = {
    flag: 'checkout',
    control: 'off',
    metrics: [
      {
        metric: 'purchase',
        variants: [
          { variant: 'off', users: 100, conversions: 10 },
          { variant: 'on', users: 100 },
        ],
      },
    ],
    expectedShares: { off: 1, on: 1 },
    series: [{ time: '2026-03-01T00:00:00Z', metrics: [] }],
  };

  it('reads ExperimentData, a missing kind a conversion and missing conversions 0', () => {
    const data = fromCountsFile(JSON.stringify(doc));
    expect(data.metrics[0]).toEqual({
      metric: 'purchase',
      kind: 'conversion',
      variants: [
        { variant: 'off', users: 100, conversions: 10 },
        { variant: 'on', users: 100, conversions: 0 },
      ],
    });
    expect(data.expectedShares).toEqual({ off: 1, on: 1 });
    expect(data.series).toEqual(doc.series);
    expect(fromCountsFile(JSON.stringify(doc), { control: 'on', flag: 'x' })).toMatchObject({
      control: 'on',
      flag: 'x',
    });
  });

  it('names the JSON path and line of a bad entry', () => {
    const bad = structuredClone(doc) as { metrics: { variants: Record<string, unknown>[] }[] };
    (bad.metrics[0]?.variants[1] as Record<string, unknown>)['users'] = 'many';
    const error = failure(() => fromCountsFile(JSON.stringify(bad, null, 2)));
    expect(error.message).toBe(
      'metrics[0].variants[1].users (line 15): must be a count (a whole number ≥ 0)',
    );
    expect(failure(() => fromCountsFile('{"flag": "x", "control": "off"}')).message).toBe(
      'metrics: must be an array',
    );
    expect(failure(() => fromCountsFile('{"flag": "x",\n "control": }')).message).toBe(
      'line 2: not valid JSON',
    );
    expect(failure(() => fromCountsFile('{"control": "off", "metrics": []}')).message).toBe(
      'flag: must be a non-empty string',
    );
  });

  it('refuses JSON nested deeper than any counts file, before parsing it, naming the line', () => {
    const deep = (open: string, close: string) =>
      `{"flag": "x", "control": "off",\n "metrics": ${open.repeat(200_000)}${close.repeat(200_000)}}`;
    for (const text of [deep('[', ']'), deep('{"a":', '}')]) {
      const error = failure(() => fromCountsFile(text));
      expect(error.name).toBe('ExperimentSourceError');
      expect(error.message).toBe('line 2: nested deeper than 32 levels');
    }
    // brackets inside strings are not nesting
    const quoted = { ...doc, flag: '[{'.repeat(100) };
    expect(fromCountsFile(JSON.stringify(quoted)).flag).toBe(quoted.flag);
  });
});

describe('fromRecorder', () => {
  it("reads the tracking recorder's totals: a conversion per event, a mean for its values, the exposures as assignment", () => {
    const recorder = createTrackingRecorder();
    const variantOf = (i: number) => (i % 2 === 0 ? 'off' : 'on');
    for (let i = 0; i < 200; i++)
      recorder.exposure('checkout', variantOf(i), { targetingKey: `u${i}` });
    for (let i = 0; i < 200; i += 5)
      recorder.event(
        'purchase',
        { targetingKey: `u${i}` },
        { value: 10 + (i % 7) },
        {
          flags: ['checkout'],
          assign: () => variantOf(i),
        },
      );
    const data = fromRecorder(recorder, 'checkout', {
      control: 'off',
      expectedShares: { off: 50, on: 50 },
    });
    expect(data.control).toBe('off');
    expect(data.assignment).toEqual({ off: 100, on: 100 });
    expect(data.expectedShares).toEqual({ off: 50, on: 50 });
    expect(data.metrics.map((m) => `${m.metric}:${m.kind}`)).toEqual([
      'purchase:conversion',
      'purchase.value:mean',
    ]);
    // i = 0, 5, 10, …: the even ones are off (20 users), the odd ones on (20 users)
    expect(data.metrics[0]?.variants).toEqual([
      { variant: 'off', users: 100, conversions: 20 },
      { variant: 'on', users: 100, conversions: 20 },
    ]);
    expect(data.notes).toBeUndefined();
    expect(analyzeExperiment(data).comparisons).toHaveLength(2);
  });

  it('notes a flag that outgrew maxUsersPerFlag, and refuses a flag without exposures', () => {
    const recorder = createTrackingRecorder({ maxUsersPerFlag: 10 });
    for (let i = 0; i < 40; i++)
      recorder.exposure('checkout', i % 2 ? 'on' : 'off', { targetingKey: `u${i}` });
    const data = fromRecorder(recorder, 'checkout', { control: 'off' });
    expect(data.notes?.[0]).toMatch(/reached its maxUsersPerFlag for "checkout"/);
    const error = failure(() => fromRecorder(recorder, 'other'));
    expect(error.message).toMatch(/^the tracking recorder has no exposures for flag "other"/);
  });
});

describe('expectedSharesOf', () => {
  it.each([
    [
      {
        targeting: {
          fractional: [
            ['on', 50],
            ['off', 50],
          ],
        },
      },
      { on: 50, off: 50 },
    ],
    [{ targeting: { fractional: [{ var: 'email' }, ['a', 1], ['b', 3]] } }, { a: 1, b: 3 }],
    [{ targeting: { fractional: [['a'], ['b']] } }, { a: 1, b: 1 }],
    [{ targeting: { if: [true, { fractional: [['a', 1]] }, 'b'] } }, undefined],
    [{ targeting: { fractional: [['a', { var: 'w' }]] } }, undefined],
    [{}, undefined],
    [null, undefined],
  ])(
    'reads the weights of a flag whose targeting is one literal fractional: %j',
    (flag, shares) => {
      expect(expectedSharesOf(flag)).toEqual(shares);
    },
  );
});

describe('fromPrometheus', () => {
  const t0 = Date.UTC(2026, 2, 1) / 1000;
  const day = 86_400;
  const grow = (per: number) => [0, 1, 2, 3].map((d) => [t0 + d * day, per * d] as const);
  const experiment = {
    flag: 'checkout',
    exposures: [
      { variant: 'off', values: grow(1_000) },
      { variant: 'on', values: grow(1_010) },
    ],
    conversions: [
      { variant: 'off', event: 'purchase', values: grow(100) },
      { variant: 'on', event: 'purchase', values: grow(125) },
      { variant: 'off', event: 'signup', values: grow(40) },
    ],
    value: [
      { variant: 'off', event: 'purchase', values: grow(4_000) },
      { variant: 'on', event: 'purchase', values: grow(5_100) },
    ],
    valueSquares: [
      { variant: 'off', event: 'purchase', values: grow(400_000) },
      { variant: 'on', event: 'purchase', values: grow(520_000) },
    ],
  };

  it('reads the totals with instant queries, by variant and event, summed over instances', async () => {
    const prometheus = await fakeExperimentPrometheus(experiment);
    stops.push(prometheus.close);
    const data = await fromPrometheus(prometheus.url, 'checkout', {
      control: 'off',
      at: (t0 + 3 * day) * 1000,
    });
    expect(data.assignment).toEqual({ off: 3_000, on: 3_030 });
    expect(data.metrics).toEqual([
      {
        metric: 'purchase',
        kind: 'conversion',
        variants: [
          { variant: 'off', users: 3_000, conversions: 300 },
          { variant: 'on', users: 3_030, conversions: 375 },
        ],
      },
      {
        metric: 'purchase.value',
        kind: 'mean',
        variants: [
          {
            variant: 'off',
            users: 3_000,
            conversions: 300,
            valueSum: 12_000,
            valueSumSquares: 1_200_000,
          },
          {
            variant: 'on',
            users: 3_030,
            conversions: 375,
            valueSum: 15_300,
            valueSumSquares: 1_560_000,
          },
        ],
      },
      {
        metric: 'signup',
        kind: 'conversion',
        variants: [
          { variant: 'off', users: 3_000, conversions: 120 },
          { variant: 'on', users: 3_030, conversions: 0 },
        ],
      },
    ]);
    expect(data.series).toBeUndefined();
    expect(prometheus.queries.map((q) => q.params['query'])).toContain(
      'sum by (feature_flag_result_variant, event) (feature_flag_experiment_conversions_total{feature_flag_key="checkout"})',
    );
    expect(prometheus.queries.every((q) => q.path === '/api/v1/query')).toBe(true);
  });

  it('reads the series with query_range from the start to then', async () => {
    const prometheus = await fakeExperimentPrometheus(experiment);
    stops.push(prometheus.close);
    const data = await fromPrometheus(prometheus.url, 'checkout', {
      control: 'off',
      since: t0 * 1000,
      at: (t0 + 3 * day) * 1000,
      points: 4,
    });
    expect(data.series?.map((p) => p.time)).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
      '2026-03-04T00:00:00.000Z',
    ]);
    expect(data.series?.[2]?.metrics[0]?.variants).toEqual([
      { variant: 'off', users: 2_000, conversions: 200 },
      { variant: 'on', users: 2_020, conversions: 250 },
    ]);
    const range = prometheus.queries.filter((q) => q.path === '/api/v1/query_range');
    expect(range).toHaveLength(4);
    expect(range[0]?.params).toMatchObject({
      start: String(t0),
      end: String(t0 + 3 * day),
      step: `${day}s`,
    });
    const analysis = analyzeExperiment(data);
    expect(analysis.timeline).toHaveLength(4);
    expect(analysis.timeline[0]?.lifts).toEqual([]); // no users yet
    expect(analysis.timeline[3]?.lifts.map((l) => `${l.metric}:${l.variant}`)).toEqual([
      'purchase:on',
      'purchase.value:on',
      'signup:on',
    ]);
  });

  it('escapes the flag key in the query, and says when there are no exposures for it', async () => {
    const prometheus = await fakeExperimentPrometheus(experiment);
    stops.push(prometheus.close);
    const error = await fromPrometheus(prometheus.url, 'a"b\\c', { control: 'off' }).catch(
      (e: Error) => e,
    );
    expect(prometheus.queries[0]?.params['query']).toContain('{feature_flag_key="a\\"b\\\\c"}');
    expect(error).toMatchObject({ name: 'ExperimentSourceError', kind: 'invalid' });
    expect((error as Error).message).toMatch(
      /has no feature_flag_experiment_exposures_total for flag "a"b\\c"/,
    );
  });

  it('reads no more than 32 MiB of an answer', async () => {
    const server = createServer((_req, res) => res.end(Buffer.alloc(33 * 1024 * 1024, 32)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await fromPrometheus(url, 'checkout', { control: 'off' }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ExperimentSourceError', kind: 'unreachable' });
    expect((error as Error).message).toMatch(
      /answered sum by .* badly: the body is \d+ bytes, over the limit of 33554432$/,
    );
  });

  it('is unreachable when Prometheus cannot be reached or refuses the query', async () => {
    const refusing = await fakeExperimentPrometheus(experiment, true);
    stops.push(refusing.close);
    const refused = await fromPrometheus(refusing.url, 'checkout', { control: 'off' }).catch(
      (e: Error) => e,
    );
    expect(refused).toMatchObject({ name: 'ExperimentSourceError', kind: 'unreachable' });
    expect((refused as Error).message).toMatch(/refused sum by .*: 400 refused$/);
    const closed = await fakeExperimentPrometheus(experiment);
    await closed.close();
    const down = await fromPrometheus(closed.url, 'checkout', { control: 'off' }).catch(
      (e: Error) => e,
    );
    expect(down).toMatchObject({ name: 'ExperimentSourceError', kind: 'unreachable' });
    expect((down as Error).message).toMatch(
      /^Prometheus at http:\/\/127\.0\.0\.1:\d+ cannot be reached/,
    );
  });
});
