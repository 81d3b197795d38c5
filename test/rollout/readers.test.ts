import { describe, expect, it } from 'vitest';
import { decide } from '../../src/rollout/decide.js';
import { parsePlan } from '../../src/rollout/plan.js';
import {
  evidenceFromTotals,
  functionReader,
  inProcessReader,
  queryFor,
  type OutcomeTotals,
} from '../../src/rollout/readers.js';
import { readRollout, withRollout } from '../../src/rollout/state.js';

const plan = parsePlan({
  flag: 'checkout',
  treatment: 'on',
  control: 'off',
  rings: { attribute: 'ring', stages: ['internal'] },
  steps: [10, 100],
  guardrails: [
    { name: 'errors', metric: 'error-rate', maxIncrease: 0.002 },
    { name: 'latency', metric: 'slow-rate', slowerThanMs: 250, maxIncrease: 0.01 },
  ],
});

const series = (
  variant: string,
  cohort: string,
  requests: number,
  failures: number,
  over250: number,
) => ({
  variant,
  cohort,
  requests,
  failures,
  atOrBelow: {
    100: requests - over250 - 1 >= 0 ? requests - over250 - 1 : 0,
    250: requests - over250,
  },
});

describe('evidence from outcome totals', () => {
  it('splits bucketed treatment, control and the active rings', () => {
    const totals: OutcomeTotals = {
      series: [
        series('on', 'none', 1000, 10, 50),
        series('on', 'internal', 300, 30, 0),
        series('off', 'none', 9000, 45, 90),
        series('off', 'beta', 100, 1, 0), // a ring not on the treatment yet counts as control
        series('other', 'none', 77, 7, 7),
      ],
    };
    const evidence = evidenceFromTotals(queryFor(plan, ['internal'], 0, 1), totals);
    expect(evidence).toEqual({
      treatment: { errors: { bad: 10, total: 1000 }, latency: { bad: 50, total: 1000 } },
      control: { errors: { bad: 46, total: 9100 }, latency: { bad: 90, total: 9100 } },
      ring: { errors: { bad: 30, total: 300 }, latency: { bad: 0, total: 300 } },
      exposures: { treatment: 1000, control: 9100, unit: 'requests' },
    });
  });
});

describe('a slow-rate guardrail', () => {
  it('needs a bucket bound the histogram has', () => {
    const totals: OutcomeTotals = {
      series: [
        {
          variant: 'on',
          cohort: 'none',
          requests: 10,
          failures: 0,
          atOrBelow: { 100: 9, 500: 10 },
        },
      ],
    };
    expect(() => evidenceFromTotals(queryFor(plan, [], 0, 1), totals)).toThrow(
      /slowerThanMs 250 is not a bucket bound of the request-duration histogram \(100, 500\): pick one of them/,
    );
  });
});

describe('the in-process reader', () => {
  it('counts a window between the snapshots at its start and end, and a reset as inconsistent counts', async () => {
    let now = 1000;
    let current: OutcomeTotals['series'] = [
      series('on', 'none', 10, 1, 0),
      series('off', 'none', 90, 1, 0),
    ];
    const reader = inProcessReader({ totals: () => current }, { clock: { now: () => now } });
    const first = await reader.read(queryFor(plan, [], 1000, 1000));
    expect(first.treatment['errors']).toEqual({ bad: 0, total: 0 });
    now = 31_000;
    current = [series('on', 'none', 110, 3, 0), series('off', 'none', 990, 5, 0)];
    const later = await reader.read(queryFor(plan, [], 1000, 31_000));
    expect(later.treatment['errors']).toEqual({ bad: 2, total: 100 });
    expect(later.control['errors']).toEqual({ bad: 4, total: 900 });
    // a past window is answered from the snapshots of its time, not from the counts of now
    now = 61_000;
    current = [series('on', 'none', 160, 4, 0), series('off', 'none', 1490, 6, 0)];
    const past = await reader.read(queryFor(plan, [], 1000, 31_000));
    expect(past.treatment['errors']).toEqual({ bad: 2, total: 100 });
    const next = await reader.read(queryFor(plan, [], 31_000, 61_000));
    expect(next.treatment['errors']).toEqual({ bad: 1, total: 50 });
    now = 91_000;
    current = [series('on', 'none', 5, 0, 0)]; // the process restarted its counters
    const reset = await reader.read(queryFor(plan, [], 61_000, 91_000));
    const state = { id: 'r', status: 'running' as const, step: 1, since: 61_000 };
    expect(decide(plan, state, { steps: [{ step: 1, ...reset }] }, 700_000).reason).toMatch(
      /counter reset/,
    );
  });
});

describe('a function reader', () => {
  it('passes the query through', async () => {
    const reader = functionReader((q) => ({
      treatment: {},
      control: {},
      exposures: { treatment: q.from, control: q.to, unit: 'users' },
    }));
    expect((await reader.read(queryFor(plan, [], 5, 9))).exposures).toEqual({
      treatment: 5,
      control: 9,
      unit: 'users',
    });
  });
});

describe('rollout state in flag metadata', () => {
  it('round-trips, keeping the flag’s own metadata', () => {
    const flag = { variants: { on: true }, metadata: { owner: 'payments' } };
    const stored = {
      id: 'r1',
      status: 'running' as const,
      step: 2,
      percent: 25,
      since: Date.parse('2026-11-29T10:00:00Z'),
      auditHead: 'ab',
    };
    const written = withRollout(flag, stored);
    expect(written['metadata']).toEqual({
      owner: 'payments',
      'rollout.id': 'r1',
      'rollout.status': 'running',
      'rollout.step': 2,
      'rollout.percent': 25,
      'rollout.since': '2026-11-29T10:00:00.000Z',
      'rollout.audit': 'ab',
    });
    expect(readRollout(written)).toEqual(stored);
    expect(readRollout(flag)).toBeUndefined();
  });

  it('refuses broken rollout metadata, naming the key', () => {
    const broken = { metadata: { 'rollout.id': 'r1', 'rollout.status': 'sideways' } };
    expect(() => readRollout(broken)).toThrow(/flag metadata "rollout.status" is "sideways"/);
  });
});
