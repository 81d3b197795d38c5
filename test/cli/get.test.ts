import { describe, expect, it } from 'vitest';
import { FileFlagSource } from 'rampflag';
import { createEvaluator } from '../../src/evaluator/index.js';
import type { Exposure } from '../../src/cli/exposure.js';
import { get } from '../../src/cli/get.js';
import { main } from '../../src/cli/main.js';
import {
  attributeValues,
  bucketingAttributes,
  generateSubjects,
} from '../../src/cli/population.js';
import { fakeIo } from '../support/cli-io.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { serverOnFreePorts } from '../support/test-server.js';

const scratch = scratchDir('cli-get');
const stops = stopsAfterEach();

const file = (doc: unknown, ext = 'json') => scratch.file(`flags.${ext}`, doc);

const NOW = Date.parse('2026-11-29T12:00:00.000Z');

async function run(...args: string[]) {
  const { io, out, err } = fakeIo();
  const code = await get(args, io, {}, () => NOW);
  return { code, out, err, text: out.join('\n') };
}

const ringTargeting = {
  if: [
    { in: [{ var: 'ring' }, ['internal', 'beta']] },
    'on',
    { fractional: [{ var: 'targetingKey' }, ['on', 100], ['off', 900]] },
  ],
};
const express = {
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: ringTargeting,
  metadata: {
    owner: 'payments',
    'rollout.id': 'r1',
    'rollout.status': 'running',
    'rollout.step': 2,
    'rollout.percent': 10,
    'rollout.since': '2026-11-29T10:00:00.000Z',
    'rollout.safeVariant': 'off',
  },
};
const freeze = {
  'rollout.frozen': true,
  'rollout.frozenBy': 'oncall',
  'rollout.frozenAt': '2026-11-29T09:00:00.000Z',
  'rollout.frozenReason': 'INC-42',
};
const doc = {
  metadata: { flagSetId: 'shop', ...freeze },
  flags: {
    'checkout.payments.express-pay': express,
    banner: { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'a' },
    retired: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
    // a rule whose outcome only evaluation tells
    tier: {
      state: 'ENABLED',
      variants: { gold: 'G', std: 'S' },
      defaultVariant: 'std',
      targeting: {
        if: [
          { starts_with: [{ var: 'email' }, 'qa-'] },
          { cat: ['', { var: 'plan' }] },
          {
            fractional: [
              ['gold', 1],
              ['std', 3],
            ],
          },
        ],
      },
    },
  },
};

interface GetJson {
  rollout: Record<string, unknown> | null;
  freeze: Record<string, unknown> | null;
  exposure: Exposure;
}

describe('rampflag get', () => {
  it('shows the definition, the rollout phase and the freeze', async () => {
    const path = file(doc);
    const { code, out } = await run('checkout.payments.express-pay', path);
    expect(code).toBe(0);
    expect(out.slice(0, 9)).toEqual([
      `checkout.payments.express-pay  (${path})`,
      '  state      ENABLED',
      '  variants   on = true, off = false  (boolean)',
      '  default    off',
      '  targeting  ring in ["internal", "beta"] → "on"',
      '             everyone else → fractional by targetingKey: on 10 %, off 90 %',
      '  metadata   flagSetId = "shop", owner = "payments"',
      '  rollout    running at step 2: 10 % on the treatment, since 2026-11-29T10:00:00.000Z (id r1); safe variant off',
      '  freeze     rollouts are frozen by oncall since 2026-11-29T09:00:00.000Z until unfrozen: INC-42',
    ]);
  });

  it('gives the exposure per cohort exactly from the rule, and measures it on generated subjects', async () => {
    const path = file(doc);
    const { out } = await run('checkout.payments.express-pay', path);
    const table = (out[out.indexOf('exposure per cohort') + 1] as string).split('\n');
    expect(table[0]).toMatch(/^cohort +variant +share +how +measured$/);
    expect(table[1]).toMatch(
      /^ring in \["internal", "beta"\] +on +100 % +exact: by name +100 % ± 0 % of [\d,]+$/,
    );
    expect(table[2]).toMatch(
      /^everyone else +on +10 % +exact: weight 100 of 1,000 +[\d.]+ % ± [\d.]+ % of [\d,]+$/,
    );
    expect(table[3]).toMatch(/^ +off +90 % +exact: weight 900 of 1,000 /);
    expect(out.at(-1)).toMatch(/an estimate over 10,000 generated subjects \(seed 1\)/);
  });

  it('measures what direct evaluation of the same subjects gives', async () => {
    const path = file(doc);
    const { code, out } = await run(
      'checkout.payments.express-pay',
      path,
      '--json',
      '--samples',
      '4000',
      '--seed',
      '7',
    );
    expect(code).toBe(0);
    const { exposure } = JSON.parse(out.join('\n')) as GetJson;
    // the same subjects, evaluated directly, sorted into cohorts by the ring rule
    const evaluator = createEvaluator();
    evaluator.setConfiguration(JSON.stringify(doc));
    const subjects = generateSubjects(
      4000,
      7,
      attributeValues(ringTargeting),
      bucketingAttributes(ringTargeting),
    );
    const counts = [new Map<string, number>(), new Map<string, number>()];
    for (const subject of subjects) {
      const ring = ['internal', 'beta'].includes(subject['ring'] as string) ? 0 : 1;
      const variant = evaluator.resolveBoolean('checkout.payments.express-pay', false, subject)
        .variant as string;
      counts[ring]?.set(variant, (counts[ring]?.get(variant) ?? 0) + 1);
    }
    exposure.cohorts.forEach((cohort, i) => {
      const direct = counts[i] as Map<string, number>;
      const n = [...direct.values()].reduce((a, b) => a + b, 0);
      expect(cohort.sample.n).toBe(n);
      for (const share of cohort.sample.shares)
        expect(share.share).toBe((direct.get(share.variant) ?? 0) / n);
    });
    // and the exact shares hold up: 10 % of everyone else, within a 99.9 % margin
    const rest = exposure.cohorts[1];
    expect(rest?.exact).toEqual({
      basis: 'weights',
      total: 1000,
      shares: [
        { variant: 'on', share: 0.1, weight: 100 },
        { variant: 'off', share: 0.9, weight: 900 },
      ],
    });
    const measured = rest?.sample.shares.find((s) => s.variant === 'on')?.share as number;
    expect(Math.abs(measured - 0.1)).toBeLessThan(
      3.3 * Math.sqrt((0.1 * 0.9) / (rest?.sample.n ?? 1)),
    );
    expect(exposure.cohorts[0]?.sample.shares).toEqual([{ variant: 'on', share: 1 }]);
  });

  it('says where shares are estimates, with their sample size', async () => {
    const { out } = await run('tier', file(doc), '--samples', '2000');
    const rows = (out[out.indexOf('exposure per cohort') + 1] as string).split('\n').slice(1);
    expect(rows[0]).toMatch(
      /^email starts with "qa-" +\S+ +≈ [\d.]+ % +estimate +[\d.]+ % ± [\d.]+ % of [\d,]+$/,
    );
    expect(out.join('\n')).toMatch(/everyone else +gold +25 % +exact: weight 1 of 4/);
  });

  it('shows a disabled flag and one without targeting as exact, with nothing to sample', async () => {
    const path = file(doc);
    const retired = await run('retired', path, '--json');
    expect((JSON.parse(retired.text) as GetJson).exposure.cohorts).toMatchObject([
      {
        label: 'everyone',
        exact: { basis: 'disabled', shares: [{ variant: '(default value)', share: 1 }] },
      },
    ]);
    const banner = await run('banner', path);
    expect(banner.text).toMatch(/everyone +a +100 % +exact: no targeting$/m);
    expect(banner.text).not.toMatch(/measured/);
  });

  it('reads a rollout and a freeze as JSON', async () => {
    const { out } = await run(
      'checkout.payments.express-pay',
      file(doc),
      '--json',
      '--samples',
      '100',
    );
    const shown = JSON.parse(out.join('\n')) as GetJson;
    expect(shown.rollout).toEqual({
      id: 'r1',
      status: 'running',
      step: 2,
      percent: 10,
      since: '2026-11-29T10:00:00.000Z',
      auditHead: undefined,
      safeVariant: 'off',
    });
    expect(shown.freeze).toMatchObject({ by: 'oncall', reason: 'INC-42', active: true });
  });

  it('says when rollout metadata cannot be read, and when a freeze has ended', async () => {
    const broken = { ...express, metadata: { ...express.metadata, 'rollout.step': -1 } };
    const ended = { ...freeze, 'rollout.frozenUntil': '2026-11-29T11:00:00.000Z' };
    const path = file({ metadata: ended, flags: { x: broken } });
    const { code, text } = await run('x', path);
    expect(code).toBe(0);
    expect(text).toMatch(
      /rollout +unreadable: flag metadata "rollout.step" is -1, not a step index/,
    );
    expect(text).toMatch(/freeze +rollouts are frozen by oncall .* \(ended\)/);
  });

  it('merges several files as serve does: a later file wins a flag key, each keeps its flag set', async () => {
    const base = file(doc);
    const override = file(
      `flags:\n  banner: { state: ENABLED, variants: { a: A, c: C }, defaultVariant: c }\n`,
      'yaml',
    );
    const { out } = await run('banner', base, override);
    expect(out).toContain('  variants   a = "A", c = "C"  (string)');
    expect(out).toContain('  freeze     none');
    const kept = await run('checkout.payments.express-pay', base, override);
    expect(kept.text).toMatch(/freeze +rollouts are frozen by oncall/);
  });

  it('exits 1 for a flag it does not have, naming the nearest keys', async () => {
    const { code, err } = await run('checkout.payments.expres-pay', file(doc));
    expect(code).toBe(1);
    expect(err[0]).toMatch(
      /flag "checkout.payments.expres-pay" not found; did you mean "checkout.payments.express-pay"\?/,
    );
  });

  it('reads a live server over FetchAllFlags', async () => {
    const server = serverOnFreePorts({ source: new FileFlagSource(file(doc)) });
    const { syncPort } = await server.start();
    stops.push(() => server.stop());
    const { code, out } = await run(
      'checkout.payments.express-pay',
      '--from',
      `grpc://127.0.0.1:${syncPort}`,
    );
    expect(code).toBe(0);
    expect(out).toContain(
      '             everyone else → fractional by targetingKey: on 10 %, off 90 %',
    );
    expect(out.join('\n')).toMatch(/freeze +rollouts are frozen by oncall/);
  });

  it('exits 2 on bad usage and 0 for --help', async () => {
    expect((await run('x')).code).toBe(2);
    expect((await run('x', file(doc), '--from', 'grpc://127.0.0.1:1')).code).toBe(2);
    expect((await run('x', file(doc), '--samples', 'many')).code).toBe(2);
    expect((await run('x', file(doc), '--samples', '1000001')).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.text).toMatch(/Examples:\n {2}rampflag get /);
    expect(help.text).toMatch(/Exit codes:/);
  });

  it('is a rampflag command', async () => {
    const { io, out } = fakeIo();
    expect(await main(['get', 'banner', file(doc)], io)).toBe(0);
    expect(out[0]).toMatch(/^banner {2}\(/);
  });
});
