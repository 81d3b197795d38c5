import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFlagSource } from 'rampflag';
import { drift } from '../../src/cli/drift.js';
import { jsonDiffs, sameJson, type FieldDiff } from '../../src/cli/drift-compare.js';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../support/cli-io.js';
import { freePort } from '../support/ports.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { serverOnFreePorts } from '../support/test-server.js';

const { dir, file } = scratchDir('cli-drift');
const stops = stopsAfterEach();

const json = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

const checkout = {
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: { fractional: [{ var: 'targetingKey' }, ['on', 250], ['off', 750]] },
  metadata: { owner: 'payments' },
};
const banner = { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'a' };
const served = { flags: { checkout, banner }, metadata: { flagSetId: 'shop' } };

/** The same flags as YAML, keys in another order, the banner in flow style. */
const SAME_YAML = `metadata:
  flagSetId: shop
flags:
  banner: { defaultVariant: a, variants: { b: B, a: A }, state: ENABLED }
  checkout:
    metadata: { owner: payments }
    targeting:
      fractional:
        - var: targetingKey
        - [on, 250]
        - [off, 750]
    defaultVariant: 'off'
    variants: { 'off': false, 'on': true }
    state: ENABLED
`;

/** A FlagServer on free ports serving `doc` from a file; its FetchAllFlags and management URLs. */
async function serveDoc(doc: unknown) {
  const server = serverOnFreePorts({ source: new FileFlagSource(file('served.json', json(doc))) });
  const ports = await server.start();
  stops.push(() => server.stop());
  return {
    grpc: `grpc://127.0.0.1:${ports.syncPort}`,
    http: `http://127.0.0.1:${ports.managementPort}`,
  };
}

async function run(args: string[]) {
  const io = fakeIo();
  const code = await drift(args, io.io, {});
  return { code, ...io };
}

describe('rampflag drift', () => {
  it.each(['grpc', 'http'] as const)(
    'exits 0 when the server (%s) serves what the files hold, YAML against JSON, keys in any order',
    async (kind) => {
      const urls = await serveDoc(served);
      const { code, text } = await run([file('flags.yaml', SAME_YAML), '--from', urls[kind]]);
      expect(text()).toMatch(
        /^in sync: .* serves what .*flags\.yaml hold \(2 in the files, 2 served\)/,
      );
      expect(code).toBe(0);
    },
  );

  it('merges several files as serve does ($evaluators inlined, flag-set metadata per flag)', async () => {
    const urls = await serveDoc(served);
    const first = file(
      'a.yaml',
      `metadata: { flagSetId: shop }
$evaluators:
  quarter: { fractional: [{ var: targetingKey }, [on, 250], [off, 750]] }
flags:
  checkout:
    state: ENABLED
    variants: { on: true, off: false }
    defaultVariant: 'off'
    targeting: { $ref: quarter }
    metadata: { owner: payments }
`,
    );
    const second = file(
      'b.json',
      json({ flags: { banner: { ...banner, metadata: { flagSetId: 'shop' } } } }),
    );
    const { code, text } = await run([first, second, '--from', urls.grpc]);
    expect(text()).toMatch(/^in sync/);
    expect(code).toBe(0);
  });

  it('exits 1 naming a changed flag and each field that differs, with both values', async () => {
    const urls = await serveDoc(served);
    const changed = {
      ...served,
      flags: {
        ...served.flags,
        checkout: {
          ...checkout,
          defaultVariant: 'on',
          targeting: { fractional: [{ var: 'targetingKey' }, ['on', 500], ['off', 500]] },
        },
      },
    };
    const { code, text } = await run([file('flags.json', json(changed)), '--from', urls.grpc]);
    expect(code).toBe(1);
    expect(text()).toMatch(/^drift: grpc:\S+ differs from \S+flags\.json in 1 flag \(/);
    expect(text()).toMatch(
      /checkout\s+changed\s+defaultVariant, targeting\.fractional\[1\]\[1\], targeting\.fractional\[2\]\[1\]/,
    );
    expect(text()).toContain('checkout: defaultVariant: files "on", server "off"');
    expect(text()).toContain('checkout: targeting.fractional[1][1]: files 500, server 250');
    expect(text()).not.toMatch(/banner/);
  });

  it('exits 1 naming a flag missing on the server and one extra on it, in --json too', async () => {
    const urls = await serveDoc(served);
    const promo = { state: 'ENABLED', variants: { x: 1 }, defaultVariant: 'x' };
    const git = file('flags.json', json({ ...served, flags: { checkout, promo } }));
    const { code, text } = await run([git, '--from', urls.http]);
    expect(code).toBe(1);
    expect(text()).toMatch(/banner\s+extra on the server/);
    expect(text()).toMatch(/promo\s+missing on the server/);
    const asJson = await run([git, '--from', urls.http, '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.text())).toEqual({
      inSync: false,
      files: [git],
      server: urls.http,
      ignoreRolloutState: false,
      flags: { files: 2, server: 2 },
      missing: ['promo'],
      extra: ['banner'],
      changed: [],
      ignored: [],
    });
  });

  it('reports a changed field in --json with the value on each side (absent left out)', async () => {
    const urls = await serveDoc(served);
    const noOwner = { ...checkout, metadata: {} };
    const git = file('flags.json', json({ ...served, flags: { banner, checkout: noOwner } }));
    const { code, text } = await run([git, '--from', urls.grpc, '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(text()).changed).toEqual([
      { flag: 'checkout', fields: [{ path: 'metadata.owner', server: 'payments' }] },
    ]);
  });

  describe('rollout state', () => {
    const midRollout = {
      ...checkout,
      targeting: { fractional: [{ var: 'targetingKey' }, ['on', 500], ['off', 500]] },
      metadata: {
        owner: 'payments',
        'rollout.id': 'r1',
        'rollout.status': 'running',
        'rollout.step': 2,
        'rollout.percent': 50,
        'rollout.since': '2026-11-29T10:00:00.000Z',
        'rollout.safeVariant': 'off',
      },
    };
    const frozen = {
      flagSetId: 'shop',
      'rollout.frozen': true,
      'rollout.frozenReason': 'INC-7',
      'rollout.frozenBy': 'oncall',
      'rollout.frozenAt': '2026-11-29T11:00:00.000Z',
    };

    it('counts by default: a running rollout is drift, with a note naming it', async () => {
      const urls = await serveDoc({ ...served, flags: { banner, checkout: midRollout } });
      const { code, text } = await run([file('flags.yaml', SAME_YAML), '--from', urls.grpc]);
      expect(code).toBe(1);
      expect(text()).toMatch(/checkout\s+changed\s+metadata\["rollout\.id"\]/);
      expect(text()).toContain('targeting.fractional[1][1]: files 250, server 500');
      expect(text()).toContain(
        'note: checkout records rollout r1 running at 50 %; --ignore-rollout-state',
      );
    });

    it('--ignore-rollout-state leaves out what the rollout changed, and lists it', async () => {
      const urls = await serveDoc({ ...served, flags: { banner, checkout: midRollout } });
      const git = file('flags.yaml', SAME_YAML);
      const { code, text } = await run([git, '--from', urls.grpc, '--ignore-rollout-state']);
      expect(text()).toMatch(/^in sync, rollout state aside/);
      expect(text()).toMatch(/checkout\s+rollout r1 running at 50 %\s+targeting/);
      expect(code).toBe(0);
      const asJson = JSON.parse(
        (await run([git, '--from', urls.grpc, '--ignore-rollout-state', '--json'])).text(),
      );
      expect(asJson.inSync).toBe(true);
      expect(asJson.ignored).toEqual([
        {
          flag: 'checkout',
          fields: [{ path: 'targeting', files: checkout.targeting, server: midRollout.targeting }],
          rollout: 'rollout r1 running at 50 %',
        },
      ]);
    });

    it('--ignore-rollout-state still counts variants, state and other metadata', async () => {
      const renamed = { ...midRollout, variants: { on: true, off: false, beta: true } };
      const urls = await serveDoc({ ...served, flags: { banner, checkout: renamed } });
      const git = file('flags.yaml', SAME_YAML);
      const { code, text } = await run([git, '--from', urls.grpc, '--ignore-rollout-state']);
      expect(code).toBe(1);
      expect(text()).toContain('checkout: variants.beta: files (absent), server true');
    });

    it('a rollback (targeting gone, the safe variant by default) is rollout state too', async () => {
      const { targeting: _gone, ...rest } = midRollout;
      const rolledBack = {
        ...rest,
        metadata: { ...midRollout.metadata, 'rollout.status': 'rolled-back', 'rollout.percent': 0 },
      };
      const urls = await serveDoc({ ...served, flags: { banner, checkout: rolledBack } });
      const git = file('flags.yaml', SAME_YAML);
      expect((await run([git, '--from', urls.grpc])).code).toBe(1);
      const { code, text } = await run([git, '--from', urls.grpc, '--ignore-rollout-state']);
      expect(text()).toMatch(/checkout\s+rollout r1 rolled-back at 0 %\s+targeting/);
      expect(code).toBe(0);
    });

    it('an incident freeze is drift by default and rollout state with the option', async () => {
      const urls = await serveDoc({ ...served, metadata: frozen });
      const git = file('flags.yaml', SAME_YAML);
      const strict = await run([git, '--from', urls.grpc]);
      expect(strict.code).toBe(1);
      expect(strict.text()).toMatch(/banner\s+changed\s+metadata\["rollout\.frozen"\]/);
      expect(strict.text()).toContain("note: the server's rollouts are frozen by oncall");
      const lenient = await run([git, '--from', urls.grpc, '--ignore-rollout-state']);
      expect(lenient.text()).toMatch(/^in sync:/);
      expect(lenient.code).toBe(0);
    });
  });

  it.each(['grpc', 'http'])('exits 3 when the server (%s) cannot be reached', async (scheme) => {
    const url = `${scheme}://127.0.0.1:${await freePort()}`;
    const { code, err, out } = await run([file('flags.yaml', SAME_YAML), '--from', url]);
    expect(code).toBe(3);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(
      new RegExp(`^rampflag drift: cannot read the server's flags: .*127\\.0\\.0\\.1`),
    );
  });

  it('exits 3 when the server refuses the read (a token needed), naming RAMPFLAG_TOKEN', async () => {
    const server = serverOnFreePorts({
      source: new FileFlagSource(file('served.json', json(served))),
      tokens: [{ name: 'reader', token: 'read-token-0123456789', roles: ['read'] }],
    });
    const ports = await server.start();
    stops.push(() => server.stop());
    const url = `http://127.0.0.1:${ports.managementPort}`;
    const git = file('flags.yaml', SAME_YAML);
    const refused = await run([git, '--from', url]);
    expect(refused.code).toBe(3);
    expect(refused.err.join()).toMatch(/401.*RAMPFLAG_TOKEN/);
    const io = fakeIo();
    expect(
      await drift([git, '--from', url], io.io, { RAMPFLAG_TOKEN: 'read-token-0123456789' }),
    ).toBe(0);
  });

  it.each([
    [['--from', 'grpc://localhost:8015'], /missing required argument 'files'/],
    [['flags.yaml'], /required option '--from <server>' not specified/],
    [['flags.yaml', '--from', 'localhost:8015'], /use grpc:\/\/host:port/],
    [['flags.yaml', '--from', 'not a url'], /is not a URL/],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('exits 2 naming a file that cannot be read or parsed', async () => {
    const missing = await run([join(dir, 'nope.yaml'), '--from', 'grpc://127.0.0.1:1']);
    expect(missing.code).toBe(2);
    expect(missing.err.join()).toMatch(/cannot read .*nope\.yaml: ENOENT/);
    const broken = file('broken.json', '{"flags": {');
    const bad = await run([file('ok.yaml', SAME_YAML), broken, '--from', 'grpc://127.0.0.1:1']);
    expect(bad.code).toBe(2);
    expect(bad.err.join()).toContain(`${broken}: `);
  });

  it('prints help with examples and exit codes, exit 0, through rampflag drift --help', async () => {
    const { io, text } = fakeIo();
    expect(await main(['drift', '--help'], io)).toBe(0);
    expect(text()).toMatch(/^Usage: rampflag drift <files\.\.\.> --from <server>/);
    expect(text()).toMatch(/Examples:[\s\S]*Exit codes:[\s\S]*3 {2}the server cannot be reached/);
  });
});

describe('drift, its comparison', () => {
  it.each([
    [{ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: 1 }, { a: 1, b: null }, false],
    [1, 1.0, true],
  ])('sameJson(%j, %j) is %s', (a, b, same) => {
    expect(sameJson(a, b)).toBe(same);
  });

  it('names the paths that differ, a bucket list item by item', () => {
    const out: FieldDiff[] = [];
    jsonDiffs(
      {
        t: {
          fractional: [
            ['on', 1],
            ['off', 9],
          ],
        },
      },
      {
        t: {
          fractional: [
            ['off', 9],
            ['on', 1],
          ],
        },
      },
      '',
      out,
      20,
    );
    expect(out.map((d) => d.path)).toEqual([
      't.fractional[0][0]',
      't.fractional[0][1]',
      't.fractional[1][0]',
      't.fractional[1][1]',
    ]);
  });
});
