import { describe, expect, it } from 'vitest';
import { FileFlagSource } from 'rampflag';
import { createEvaluator } from '../../src/evaluator/index.js';
import { bucketOf, murmur3 } from '../../src/evaluator/murmur3.js';
import { evaluate } from '../../src/cli/eval.js';
import type { ExplainedEvaluation } from '../../src/cli/eval-explain.js';
import { main } from '../../src/cli/main.js';
import { seededRandom } from '../../src/stats/random.js';
import { fakeIo } from '../support/cli-io.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { serverOnFreePorts } from '../support/test-server.js';

const scratch = scratchDir('cli-eval');
const stops = stopsAfterEach();

const file = (doc: unknown, ext = 'json') => scratch.file(`flags.${ext}`, doc);

async function run(...args: string[]) {
  const { io, out, err } = fakeIo();
  const code = await evaluate(args, io, {});
  return { code, out, err, text: out.join('\n') };
}

type Json = Record<string, unknown>;
const TWO_32 = 2 ** 32;

/** A boolean flag: ring users get 'on', everyone else a fractional over `buckets`. */
const rolloutFlag = (buckets: unknown[], key?: unknown) => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: {
    if: [
      { in: [{ var: 'ring' }, ['internal']] },
      'on',
      { fractional: key === undefined ? buckets : [key, ...buckets] },
    ],
  },
  metadata: { owner: 'payments', 'rollout.safeVariant': 'off' },
});

/** The flag key for which `flagKey + "user-42"` lands in `bucket` of 10,000 (found by search). */
function flagKeyLanding(subject: string, bucket: number): string {
  for (let i = 0; ; i++)
    if (bucketOf(murmur3(`flag-${i}`, subject), 10_000) === bucket) return `flag-${i}`;
}

const evaluatorOf = (flags: Json) => {
  const evaluator = createEvaluator();
  evaluator.setConfiguration({ flags });
  return evaluator;
};

interface EvalJson {
  value?: unknown;
  variant?: string;
  reason: string;
  errorCode?: string;
  errorMessage?: string;
  flagMetadata: Json;
  context: Json;
  explain?: ExplainedEvaluation;
}

describe('rampflag eval', () => {
  const doc = {
    flags: {
      'new-ui': rolloutFlag([
        ['on', 1000],
        ['off', 9000],
      ]),
    },
    metadata: { flagSetId: 'web' },
  };

  it('prints the resolution details, the same as direct evaluation', async () => {
    const path = file(doc);
    const context = { targetingKey: 'user-7', ring: 'internal' };
    const { code, out } = await run('new-ui', path, '-k', 'user-7', '-c', 'ring=internal');
    expect(code).toBe(0);
    const direct = evaluatorOf(doc.flags).resolveBoolean('new-ui', false, context);
    expect(direct).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    expect(out).toEqual([
      `new-ui  (${path})`,
      '  value     true',
      '  variant   on',
      '  reason    TARGETING_MATCH',
      '  metadata  flagSetId = "web", owner = "payments", rollout.safeVariant = "off"',
    ]);
  });

  it('builds the context from --context, then -c (JSON values when they parse), then --targeting-key', async () => {
    const { out } = await run(
      'new-ui',
      file(doc),
      '--context',
      '{"targetingKey": "a", "plan": "pro", "n": 1}',
      '-c',
      'n=42',
      '-c',
      'beta=true',
      '-c',
      'tags=["x","y"]',
      '-c',
      'name=Ada Lovelace',
      '-c',
      'eq=a=b',
      '--targeting-key',
      'user-9',
      '--json',
    );
    expect((JSON.parse(out.join('\n')) as EvalJson).context).toEqual({
      targetingKey: 'user-9',
      plan: 'pro',
      n: 42,
      beta: true,
      tags: ['x', 'y'],
      name: 'Ada Lovelace',
      eq: 'a=b',
    });
  });

  it('prints JSON with the error code, and exits 1 for a flag it does not have, naming the nearest', async () => {
    const { code, out } = await run('new-iu', file(doc), '--json');
    expect(code).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      errorMessage: 'flag "new-iu" not found; did you mean "new-ui"?',
    });
  });

  it('exits 1 on an evaluation error and 0 for a disabled flag', async () => {
    const flags = {
      broken: {
        state: 'ENABLED',
        variants: { a: 'A' },
        defaultVariant: 'a',
        targeting: { nope: [] },
      },
      retired: { state: 'DISABLED', variants: { a: 'A' }, defaultVariant: 'a' },
    };
    const path = file({ flags });
    const broken = await run('broken', path);
    expect(broken.code).toBe(1);
    expect(broken.text).toMatch(/error +PARSE_ERROR: .*unknown operator "nope"/);
    const retired = await run('retired', path);
    expect(retired.code).toBe(0);
    expect(retired.text).toMatch(
      /value +none \(the caller's default value\)\n {2}reason +DISABLED/,
    );
  });

  it.each([
    ['--context', '[1]'],
    ['--context', '{oops'],
    ['-c', 'novalue'],
  ])('exits 2 for %s %s', async (option, value) => {
    const { code, err } = await run('new-ui', file(doc), option, value);
    expect(code).toBe(2);
    expect(err[0]).toMatch(/^rampflag eval: /);
  });

  it('exits 0 for --help, with examples and exit codes', async () => {
    const { code, text } = await run('--help');
    expect(code).toBe(0);
    expect(text).toMatch(/Examples:\n {2}rampflag eval /);
    expect(text).toMatch(/Exit codes:/);
  });

  it('is a rampflag command', async () => {
    const { io, out } = fakeIo();
    expect(await main(['eval', 'new-ui', file(doc), '-k', 'u'], io)).toBe(0);
    expect(out[1]).toMatch(/value +(true|false)/);
  });
});

describe('rampflag eval --explain', () => {
  it('words the flip point as the issue does: bucket of 10,000 and the share it flips at', async () => {
    const key = flagKeyLanding('user-42', 2913);
    const path = file({
      flags: {
        [key]: rolloutFlag([
          ['on', 1000],
          ['off', 9000],
        ]),
      },
    });
    const { code, out } = await run(key, path, '-k', 'user-42', '--explain');
    expect(code).toBe(0);
    expect(out.at(-1)).toBe(
      "user-42 is in bucket 2,913 of 10,000: it gets 'on' once 'on' reaches 29.14 %",
    );
  });

  it('shows the rule path with each condition, and the key, hash, bucket and weight table', async () => {
    const doc = {
      flags: {
        'new-ui': rolloutFlag([
          ['on', 2500],
          ['off', 7500],
        ]),
      },
    };
    const { out, text } = await run(
      'new-ui',
      file(doc),
      '-k',
      'user-42',
      '-c',
      'ring=beta',
      '--explain',
    );
    const hash = murmur3('new-ui', 'user-42');
    const bucket = bucketOf(hash, 10_000);
    const variant = evaluatorOf(doc.flags).resolveBoolean('new-ui', false, {
      targetingKey: 'user-42',
      ring: 'beta',
    }).variant as string;
    expect(bucket < 2500 ? 'on' : 'off').toBe(variant);
    expect(text).toMatch(/targeting\.if\[0\]\.in\[0\] +var +ring +"beta"/);
    expect(text).toMatch(/targeting\.if\[0\] +in +ring in \["internal"\] +false/);
    expect(text).toMatch(
      new RegExp(
        `targeting\\.if\\[2\\] +fractional +fractional by targetingKey: on 25 %, off 75 % +"${variant}"`,
      ),
    );
    expect(out).toContain('  bucketing key  "new-uiuser-42" (flag key + targetingKey)');
    expect(out).toContain(
      `  MurmurHash3    ${hash.toLocaleString('en-US')} (x86 32-bit, seed 0; position ${(hash / TWO_32).toFixed(6)})`,
    );
    expect(out).toContain(
      `  bucket         floor(${hash} × 10000 / 2^32) = ${bucket.toLocaleString('en-US')} of 10,000 → "${variant}"`,
    );
    expect(text).toMatch(/^on +2,500 +25 % +0 – 2,499/m);
    expect(text).toMatch(/^off +7,500 +75 % +2,500 – 9,999/m);
    expect(text).toMatch(new RegExp(`^${variant} .*← this subject$`, 'm'));
  });

  it('flips each subject exactly at the printed share: it has the treatment there, and not 0.01 % below', async () => {
    const random = seededRandom(12);
    for (const [place, total] of [
      ['first', 10_000],
      ['first', 1_000_000],
      ['last', 10_000],
      ['last', 1_000_000],
    ] as const) {
      const table = (w: number) =>
        place === 'first'
          ? [
              ['on', w],
              ['off', total - w],
            ]
          : [
              ['off', total - w],
              ['on', w],
            ];
      const flagKey = `flip-${place}`;
      const path = file({ flags: { [flagKey]: rolloutFlag(table(total / 10)) } });
      const scale = total / 10_000; // weight units per hundredth of a percent
      for (let i = 0; i < 40; i++) {
        const subject = `user-${Math.floor(random() * 1e9)}`;
        const { out } = await run(flagKey, path, '-k', subject, '--explain', '--json');
        const [fractional] = (JSON.parse(out.join('\n')) as EvalJson).explain?.fractional ?? [];
        const flip = fractional?.flip;
        expect(flip).toMatchObject({ treatment: 'on', place });
        const hundredths = Math.round((flip?.thresholdPercent as number) * 100);
        const at = (w: number) =>
          evaluatorOf({ [flagKey]: rolloutFlag(table(w)) }).resolveBoolean(flagKey, false, {
            targetingKey: subject,
          }).variant;
        expect(at(hundredths * scale)).toBe('on');
        expect(at((hundredths - 1) * scale)).toBe('off');
        expect(flip?.has).toBe(fractional?.variant === 'on');
      }
    }
  });

  it.each([
    // flagd's hash-edge keys (flagd-testbed): MurmurHash3 0 and 2^32 - 1
    ['ejOoVL', 0, 0.01, 100],
    ['ceQdGm', TWO_32 - 1, 100, 0.01],
  ])(
    'gets the edges right: %s (hash %i) flips at %s % first, %s % last',
    async (subject, hash, first, last) => {
      for (const [place, threshold] of [
        ['first', first],
        ['last', last],
      ] as const) {
        const table = (w: number) =>
          place === 'first'
            ? [
                ['on', w],
                ['off', 10_000 - w],
              ]
            : [
                ['off', 10_000 - w],
                ['on', w],
              ];
        const flags = { edge: rolloutFlag(table(5000), { var: 'targetingKey' }) };
        const { out } = await run('edge', file({ flags }), '-k', subject, '--explain', '--json');
        const explained = (JSON.parse(out.join('\n')) as EvalJson).explain;
        const flip = explained?.fractional[0];
        expect(flip?.sentence).toMatch(new RegExp(`^${subject} is in bucket `));
        expect(flip).toMatchObject({ hash, flip: { place, thresholdPercent: threshold } });
        const at = (w: number) =>
          evaluatorOf({ edge: rolloutFlag(table(w), { var: 'targetingKey' }) }).resolveBoolean(
            'edge',
            false,
            {
              targetingKey: subject,
            },
          ).variant;
        expect(at(threshold * 100)).toBe('on');
        if (threshold * 100 > 1) expect(at(threshold * 100 - 1)).toBe('off');
      }
    },
  );

  it('says a subject that has the treatment keeps it down to the threshold', async () => {
    const key = flagKeyLanding('user-42', 500);
    const path = file({
      flags: {
        [key]: rolloutFlag([
          ['on', 1000],
          ['off', 9000],
        ]),
      },
    });
    const { out } = await run(key, path, '-k', 'user-42', '--explain');
    expect(out.at(-1)).toBe(
      "user-42 is in bucket 500 of 10,000: it has 'on' (at 10 %) and keeps it while 'on' stays at or above 5.01 %",
    );
  });

  it('computes the flip for --treatment, and names the bucketing key when the rule gives one', async () => {
    const doc = {
      flags: {
        ab: rolloutFlag(
          [
            ['on', 1],
            ['off', 1],
          ],
          { var: 'email' },
        ),
      },
    };
    const path = file(doc);
    const { out } = await run(
      'ab',
      path,
      '-c',
      'email=ada@example.com',
      '--explain',
      '--treatment',
      'off',
    );
    const hash = murmur3('ada@example.com');
    expect(out).toContain(`  bucketing key  "ada@example.com" (the rule's bucketing expression)`);
    expect(out.at(-1)).toMatch(
      /^"ada@example.com" is in bucket [01] of 2: it (gets 'off' once|has 'off' \(at 50 %\) and keeps it while) /,
    );
    const threshold = Math.ceil(((TWO_32 - hash) * 10_000) / TWO_32) / 100;
    expect(out.at(-1)).toContain(
      `${threshold.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`,
    );
  });

  it('notes a fractional with no targeting key to bucket by', async () => {
    const path = file({
      flags: {
        x: rolloutFlag([
          ['on', 1],
          ['off', 1],
        ]),
      },
    });
    const { text } = await run('x', path, '--explain');
    expect(text).toMatch(/targeting\.if\[2\] +fractional .* null/);
    expect(text).toMatch(/note: a fractional yielded null: the context has no targetingKey/);
  });

  it('makes no flip claim for a treatment in the middle of the bucket list', async () => {
    const flags = {
      abc: {
        state: 'ENABLED',
        variants: { a: 'A', b: 'B', c: 'C' },
        defaultVariant: 'a',
        targeting: {
          fractional: [
            ['a', 1],
            ['b', 1],
            ['c', 1],
          ],
        },
      },
    };
    const { out } = await run('abc', file({ flags }), '-k', 'u', '--explain', '--treatment', 'b');
    expect(out.at(-1)).toMatch(/'b' is neither the first nor the last bucket/);
  });
});

describe('rampflag eval --from', () => {
  const doc = {
    flags: {
      'new-ui': rolloutFlag([
        ['on', 1000],
        ['off', 9000],
      ]),
    },
  };

  async function server() {
    const s = serverOnFreePorts({ source: new FileFlagSource(file(doc)) });
    const ports = await s.start();
    stops.push(() => s.stop());
    return ports;
  }

  const subjects = ['user-1', 'user-2', 'user-3', 'user-42', 'user-99'];

  it('evaluates here on what FetchAllFlags gives, --explain included', async () => {
    const { syncPort } = await server();
    for (const subject of subjects) {
      const { code, out } = await run(
        'new-ui',
        '--from',
        `grpc://127.0.0.1:${syncPort}`,
        '-k',
        subject,
        '--explain',
        '--json',
      );
      expect(code).toBe(0);
      const shown = JSON.parse(out.join('\n')) as EvalJson;
      const direct = evaluatorOf(doc.flags).resolveBoolean('new-ui', false, {
        targetingKey: subject,
      });
      expect(shown.variant).toBe(direct.variant);
      expect(shown.explain?.fractional[0]?.hash).toBe(murmur3('new-ui', subject));
    }
  });

  it('evaluates here on the management API, and through OFREP on an OFREP port', async () => {
    const { managementPort, ofrepPort } = await server();
    for (const subject of subjects) {
      const direct = evaluatorOf(doc.flags).resolveBoolean('new-ui', false, {
        targetingKey: subject,
      });
      const local = await run(
        'new-ui',
        '--from',
        `http://127.0.0.1:${managementPort}`,
        '-k',
        subject,
        '--json',
      );
      expect(JSON.parse(local.text)).toMatchObject({
        evaluatedBy: 'rampflag',
        variant: direct.variant,
      });
      const remote = await run(
        'new-ui',
        '--from',
        `http://127.0.0.1:${ofrepPort}`,
        '-k',
        subject,
        '--json',
      );
      expect(remote.code).toBe(0);
      expect(JSON.parse(remote.text)).toMatchObject({
        evaluatedBy: 'the server, through OFREP',
        value: direct.value,
        variant: direct.variant,
        reason: 'TARGETING_MATCH',
        flagMetadata: { owner: 'payments' },
      });
    }
    const said = await run(
      'new-ui',
      '--from',
      `http://127.0.0.1:${ofrepPort}`,
      '--ofrep',
      '-k',
      'u',
    );
    expect(said.out[0]).toMatch(/evaluated there through OFREP/);
  });

  it('refuses --explain over OFREP, saying why', async () => {
    const { ofrepPort } = await server();
    const { code, err } = await run(
      'new-ui',
      '--from',
      `http://127.0.0.1:${ofrepPort}`,
      '--ofrep',
      '--explain',
    );
    expect(code).toBe(2);
    expect(err[0]).toMatch(/--explain needs the flag definitions, which OFREP does not give/);
  });

  it('reports an OFREP error code and exits 1', async () => {
    const { ofrepPort } = await server();
    const { code, out } = await run(
      'nope',
      '--from',
      `http://127.0.0.1:${ofrepPort}`,
      '--ofrep',
      '--json',
    );
    expect(code).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
  });
});
