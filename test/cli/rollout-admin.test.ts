import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rollout, STEP_EXIT } from '../../src/cli/rollout.js';
import { verifyAudit, type AuditRecord } from '../../src/rollout/audit.js';
import { fakeIo } from '../support/cli-io.js';
import { BANNER, rolling, secured, TOKENS } from '../support/management-api.js';
import { clientFor } from '../support/provider-events.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { inProcessProvider } from '../support/sync-flags.js';

const { dir } = scratchDir('cli-rollout-admin');
const stops = stopsAfterEach();

let made = 0;
/** A fresh directory with a flag file (checkout, banner) in it. */
function flagFile(extra: Record<string, unknown> = {}) {
  const home = join(dir, `case-${made++}`);
  mkdirSync(home);
  const file = join(home, 'flags.json');
  writeFileSync(
    file,
    `${JSON.stringify({ flags: { checkout: rolling(), banner: BANNER }, ...extra }, null, 2)}\n`,
  );
  return { home, file };
}

/** A FlagServer on free ports with role tokens, an audit log, and the flag file as its source. */
async function serve() {
  const { home, file } = flagFile();
  const server = await secured({}, { file, auditPath: join(home, 'server-audit.jsonl') });
  // The server's own write is at times re-read by the file watcher as another write lands and
  // recorded as an outside edit (actor "file"): a race in the server, not what these tests check.
  const records = () => server.records().filter((r) => r.actor !== 'file');
  return { ...server, url: `http://127.0.0.1:${server.managementPort}`, records };
}

function auditIn(path: string): readonly AuditRecord[] {
  const verified = verifyAudit(readFileSync(path, 'utf8'));
  if (!verified.ok) throw new Error(verified.problem);
  return verified.records;
}

/** Runs `rampflag rollout …` with a fake io and the token of `as` in RAMPFLAG_TOKEN. */
async function run(
  argv: string[],
  { as, env, tty }: { as?: keyof typeof TOKENS; env?: NodeJS.ProcessEnv; tty?: boolean } = {},
) {
  const { io, out, err } = fakeIo(tty === undefined ? {} : { tty });
  const code = await rollout(argv, io, {
    ...(as === undefined ? {} : { RAMPFLAG_TOKEN: TOKENS[as] }),
    ...env,
  });
  return { code, out: out.join('\n'), err: err.join('\n'), blocks: out };
}

describe('rampflag rollout <action> <flag> --admin', () => {
  it('kills a flag by its name, says what changed, and is idempotent', async () => {
    const { url, stored, records } = await serve();
    const killed = await run(['kill', 'checkout', '--admin', url, '--reason', 'INC-1'], {
      as: 'release',
    });
    expect(killed).toMatchObject({ code: 0, err: '' });
    expect(killed.out).toBe(
      "killed checkout: serving 'off' to everyone (was: rollout r-running at 10 %)",
    );
    expect(stored()['checkout']).toMatchObject({
      defaultVariant: 'off',
      metadata: { 'rollout.status': 'killed', 'rollout.percent': 0 },
    });
    const again = await run(['kill', 'checkout', '--admin', url, '--json'], { as: 'release' });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({
      flag: 'checkout',
      action: 'kill',
      changed: false,
      status: 'killed',
      safeVariant: 'off',
      version: expect.any(Number),
      delivery: { pending: 0 },
    });
    expect((await run(['kill', 'checkout', '--admin', url], { as: 'release' })).out).toBe(
      'no change: checkout already killed',
    );
    expect(records().map((r) => [r.actor, r.action, r.flag, r.changed, r.reason])).toEqual([
      ['release', 'kill', 'checkout', true, 'INC-1'],
      ['release', 'kill', 'checkout', false, 'kill through the admin API: no change'],
      ['release', 'kill', 'checkout', false, 'kill through the admin API: no change'],
    ]);
  });

  it('rolls back a flag with no safe variant only when given one, with a hint when not', async () => {
    const { url, stored } = await serve();
    const refused = await run(['rollback', 'banner', '--admin', url], { as: 'release' });
    expect(refused.code).toBe(STEP_EXIT.error);
    expect(refused.err).toMatch(/rollout\.safeVariant.*\(pass --safe-variant <variant>\)/);
    const given = await run(['rollback', 'banner', '--admin', url, '--safe-variant', 'b'], {
      as: 'release',
    });
    expect(given.out).toBe("rolled back banner: serving 'b' to everyone (was: 'a' to everyone)");
    expect(stored()['banner']).toMatchObject({
      defaultVariant: 'b',
      metadata: { 'rollout.status': 'rolled-back', 'rollout.safeVariant': 'b' },
    });
  });

  it('pauses and resumes a rollout by name; a flag with no rollout is refused', async () => {
    const { url, stored, records } = await serve();
    const paused = await run(['pause', 'checkout', '--admin', url, '--reason', 'lunch'], {
      as: 'release',
    });
    expect(paused.out).toBe('paused checkout: rollout r-running at 10 % holds until resumed');
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'paused' } });
    expect((await run(['pause', 'checkout', '--admin', url], { as: 'release' })).out).toBe(
      'no change: checkout already paused',
    );
    const resumed = await run(['resume', 'checkout', '--admin', url], { as: 'release' });
    expect(resumed.out).toBe('resumed checkout: rollout r-running at 10 % goes on');
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'running' } });
    const none = await run(['pause', 'banner', '--admin', url], { as: 'release' });
    expect(none.code).toBe(STEP_EXIT.error);
    expect(none.err).toMatch(/409: the flag has no rollout/);
    expect(records().map((r) => [r.action, r.changed])).toEqual([
      ['pause', true],
      ['pause', false],
      ['resume', true],
    ]);
  });

  it('takes the token from RAMPFLAG_TOKEN or RAMPFLAG_ADMIN_TOKEN, and says what a refusal means', async () => {
    const { url, stored } = await serve();
    const none = await run(['kill', 'checkout', '--admin', url]);
    expect(none.code).toBe(STEP_EXIT.error);
    expect(none.err).toMatch(/no token: set RAMPFLAG_TOKEN to a token with the rollout role/);
    const unknown = await run(['kill', 'checkout', '--admin', url], {
      env: { RAMPFLAG_TOKEN: 'not-a-known-token-000' },
    });
    expect(unknown.err).toMatch(
      /does not accept the token in RAMPFLAG_TOKEN: set RAMPFLAG_TOKEN to a token with the rollout role/,
    );
    const reader = await run(['kill', 'checkout', '--admin', url], { as: 'reader' });
    expect(reader.code).toBe(STEP_EXIT.error);
    expect(reader.err).toMatch(/token "reader" does not have the "rollout" role/);
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'running' } });
    const fallback = await run(['kill', 'checkout', '--admin', url], {
      env: { RAMPFLAG_ADMIN_TOKEN: TOKENS.release },
    });
    expect(fallback.code).toBe(0);
    const missing = await run(['kill', 'nope', '--admin', url], { as: 'release' });
    expect(missing.err).toMatch(/404: no flag "nope"/);
  });
});

/** An SSE sync client on the server's http port that reads every event. */
async function sseReader(port: number) {
  const res = await new Promise<IncomingMessage>((done) =>
    get({ host: '127.0.0.1', port, path: '/sync/sse' }, done),
  );
  res.resume();
  stops.push(() => res.destroy());
}

describe('--wait', () => {
  it('waits until every connected sync stream was sent the kill, by transport', async () => {
    const { url, syncPort, httpPort } = await serve();
    const provider = inProcessProvider(syncPort);
    stops.push(() => provider.onClose());
    const { client } = await clientFor(provider);
    await sseReader(httpPort);
    const result = await run(['kill', 'checkout', '--admin', url, '--wait'], { as: 'release' });
    expect(result.code).toBe(0);
    expect(result.blocks[0]).toMatch(/^killed checkout/);
    expect(result.blocks.at(-1)).toMatch(
      /^sent to 2 of 2 sync streams \(gRPC 1\/1, SSE 1\/1\) in \d+ ms — sent means written to the stream, not applied by the client$/,
    );
    await expect
      .poll(() => client.getBooleanValue('checkout', true, { targetingKey: 'u1' }))
      .toBe(false);
    const json = await run(['rollback', 'checkout', '--admin', url, '--wait', '--json'], {
      as: 'release',
    });
    // a rollback after the kill is a repeat: both serve the safe variant
    expect(JSON.parse(json.out)).toMatchObject({
      action: 'rollback',
      changed: false,
      wait: { complete: true, delivery: { streams: 2, sent: 2, pending: 0 } },
    });
  });

  it('waits with a plan-based kill through the server too', async () => {
    const { url, stored } = await serve();
    const plan = join(dir, 'wait.plan.yaml');
    writeFileSync(plan, 'flag: checkout\ntreatment: "on"\ncontrol: "off"\nsteps: [10, 100]\n');
    const audit = join(dir, 'wait.audit.jsonl');
    const result = await run(
      ['kill', '--plan', plan, '--admin', url, '--audit', audit, '--wait', '--timeout', '5s'],
      { as: 'release' },
    );
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^kill: kill switch[\s\S]*\nsent to 0 of 0 sync streams in \d+ ms/);
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'killed' } });
  });

  it('gives up after --timeout with exit 13, naming how many streams are pending', async () => {
    const fake = await stuckServer();
    const result = await run(
      ['kill', 'checkout', '--admin', fake.url, '--wait', '--timeout', '400ms'],
      { as: 'release', tty: true },
    );
    expect(result.code).toBe(STEP_EXIT.notSent);
    expect(result.code).toBe(13);
    expect(result.blocks[0]).toBe("killed checkout: serving 'off' to everyone");
    expect(result.blocks[1]).toMatch(
      /^sending: 2 of 3 sync streams \(gRPC 2\/2, SSE 0\/1\), 1 pending/,
    );
    const last = result.blocks.at(-1) ?? '';
    expect(last.startsWith('\x1b[1A\x1b[J')).toBe(true); // the progress line redrawn in place
    expect(last).toMatch(
      /sent to 2 of 3 sync streams .* 1 still pending — not every stream was sent the change in time$/,
    );
    expect(result.err).toMatch(
      /^rampflag rollout kill: 1 of 3 sync streams were not sent version 7 within \d+ ms$/,
    );
    const polls = fake.requests.filter((r) => r.url.startsWith('/admin/delivery'));
    expect(polls.length).toBeGreaterThan(0);
    for (const poll of polls) {
      const query = new URL(poll.url, 'http://x').searchParams;
      expect(query.get('version')).toBe('7');
      expect(Number(query.get('wait'))).toBeGreaterThan(0);
      expect(Number(query.get('wait'))).toBeLessThanOrEqual(30_000);
      expect(poll.authorization).toBe(`Bearer ${TOKENS.release}`);
    }
    const piped = await run(
      ['kill', 'checkout', '--admin', fake.url, '--wait', '--timeout', '200ms'],
      {
        as: 'release',
      },
    );
    expect(piped.code).toBe(13);
    expect(piped.blocks).toHaveLength(2); // no progress lines off a terminal
  });

  it('passes on a freeze refusal (423) as the server words it', async () => {
    const fake = await stuckServer();
    const refused = await run(['resume', 'checkout', '--admin', fake.url], { as: 'release' });
    expect(refused.code).toBe(STEP_EXIT.error);
    expect(refused.err).toBe(`rampflag rollout resume: ${FROZEN}`);
  });
});

const FROZEN =
  'rollouts are frozen by oncall since 2026-11-29T10:00:00.000Z until unfrozen: INC-9; flag "checkout" would advance its rollout';

/**
 * A stand-in management API whose one sync stream never takes the change: every delivery answer,
 * after the long poll's wait, has one pending. Records what it was asked.
 */
async function stuckServer() {
  const requests: { method: string; url: string; authorization: string | undefined }[] = [];
  const delivery = {
    version: 7,
    current: 7,
    streams: 3,
    sent: 2,
    pending: 1,
    transports: {
      grpc: { streams: 2, sent: 2 },
      sse: { streams: 1, sent: 0 },
      'ofrep-sse': { streams: 0, sent: 0 },
    },
  };
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/admin/flags') return send(404, { error: 'name a source' });
    if (url.pathname === '/admin/flags/checkout/kill')
      return send(200, {
        flag: 'checkout',
        action: 'kill',
        changed: true,
        reason: 'kill',
        status: 'killed',
        safeVariant: 'off',
        version: 7,
        delivery,
      });
    if (url.pathname === '/admin/flags/checkout/resume') return send(423, { error: FROZEN });
    if (url.pathname === '/admin/delivery') {
      const timer = setTimeout(() => send(200, delivery), Number(url.searchParams.get('wait')));
      req.on('close', () => clearTimeout(timer));
      return;
    }
    send(404, { error: 'no such endpoint' });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  stops.push(
    () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('the incident freeze', () => {
  it('freezes and unfreezes through the server, which audits it under the token', async () => {
    const { url, records } = await serve();
    const refused = await run(['freeze', '--reason', 'INC-2', '--admin', url], { as: 'release' });
    expect(refused.code).toBe(STEP_EXIT.error);
    expect(refused.err).toMatch(/token "release" does not have the "admin" role/);
    const frozen = await run(['freeze', '--reason', 'INC-2', '--for', '2h', '--admin', url], {
      as: 'oncall',
    });
    expect(frozen.code).toBe(0);
    expect(frozen.out).toMatch(
      /^froze every rollout in http:\/\/127\.0\.0\.1:\d+: frozen by oncall since \S+Z until \S+Z: INC-2$/,
    );
    expect(
      (await run(['freeze', '--reason', 'INC-2b', '--admin', url], { as: 'oncall' })).out,
    ).toMatch(/^no change: already frozen by oncall since .*: INC-2$/);
    const status = await run(['status', 'checkout', '--admin', url], { as: 'reader' });
    expect(status.out).toMatch(
      /^flag checkout: rollout r-running running, step 2 \(10 %\) since 2026-11-29T10:00:00.000Z\nserving: rollout r-running at 10 %; safe variant 'off'\nfreeze: frozen by oncall since \S+ until \S+: INC-2$/,
    );
    const json = JSON.parse(
      (await run(['status', 'checkout', '--admin', url, '--json'], { as: 'reader' })).out,
    );
    expect(json).toMatchObject({
      flag: 'checkout',
      rollout: { id: 'r-running', status: 'running', percent: 10 },
      safeVariant: 'off',
      freeze: { frozen: true, by: 'oncall', reason: 'INC-2', until: expect.any(String) },
    });
    expect((await run(['status', '--admin', url], { as: 'reader' })).out).toMatch(
      /^freeze: frozen by oncall/,
    );
    const thawed = await run(['unfreeze', '--admin', url, '--reason', 'INC-2 over'], {
      as: 'oncall',
    });
    expect(thawed.out).toMatch(/^unfroze every rollout in .*: rollouts may advance again$/);
    expect((await run(['unfreeze', '--admin', url], { as: 'oncall' })).out).toBe(
      'no change: not frozen',
    );
    expect((await run(['status', '--admin', url, '--json'], { as: 'reader' })).out).toBe(
      '{"freeze":{"frozen":false}}',
    );
    expect(records().map((r) => [r.actor, r.action, r.flag, r.reason])).toEqual([
      ['oncall', 'freeze', '*', 'INC-2'],
      ['oncall', 'unfreeze', '*', 'INC-2 over'],
    ]);
  });

  it('freezes and unfreezes a flag file, audited beside it, keeping its format', async () => {
    const { home, file } = flagFile({ metadata: { flagSetId: 'shop' } });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const frozen = await run([
      'freeze',
      '--flags',
      file,
      '--reason',
      'INC-3',
      '--until',
      until,
      '--actor',
      'alice',
    ]);
    expect(frozen.code).toBe(0);
    expect(frozen.out).toMatch(
      new RegExp(
        `^froze every rollout in ${file}: frozen by alice since \\S+ until ${until}: INC-3$`,
      ),
    );
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[1]).toBe('  "flags": {'); // indentation kept
    expect(JSON.parse(text)).toMatchObject({
      metadata: {
        flagSetId: 'shop',
        'rollout.frozen': true,
        'rollout.frozenReason': 'INC-3',
        'rollout.frozenBy': 'alice',
        'rollout.frozenUntil': until,
      },
    });
    expect((await run(['freeze', '--flags', file, '--reason', 'again'])).out).toMatch(
      /^no change: already frozen by alice/,
    );
    const status = await run(['status', 'checkout', '--flags', file]);
    expect(status.out).toMatch(/\nfreeze: frozen by alice since \S+ until \S+: INC-3$/);
    const thawed = await run(['unfreeze', '--flags', file, '--actor', 'bob']);
    expect(thawed.out).toBe(`unfroze every rollout in ${file}: rollouts may advance again`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      metadata: { flagSetId: 'shop' },
    });
    expect(readFileSync(file, 'utf8')).not.toMatch(/rollout\.frozen/);
    const log = auditIn(join(home, 'rampflag-audit.jsonl')); // the default: beside the flags
    expect(log.map((r) => [r.actor, r.action, r.flag, r.changed, r.reason])).toEqual([
      ['alice', 'freeze', '*', true, 'INC-3'],
      ['bob', 'unfreeze', '*', true, 'unfrozen'],
    ]);
    expect(log[0]).toMatchObject({
      before: { metadata: { flagSetId: 'shop' } },
      after: { metadata: { 'rollout.frozen': true } },
    });
  });

  it('shows an expired freeze as expired, and a plan-based status shows the freeze', async () => {
    const { file } = flagFile({
      metadata: {
        'rollout.frozen': true,
        'rollout.frozenReason': 'INC-4',
        'rollout.frozenBy': 'carol',
        'rollout.frozenAt': '2026-01-01T00:00:00.000Z',
        'rollout.frozenUntil': '2026-01-01T02:00:00.000Z',
      },
    });
    const plan = join(dir, 'status.plan.yaml');
    writeFileSync(plan, 'flag: checkout\ntreatment: "on"\ncontrol: "off"\nsteps: [10, 100]\n');
    const status = await run(['status', '--plan', plan, '--flags', file]);
    expect(status.out).toBe(
      'flag checkout: rollout r-running running, step 2/2 (10%) since 2026-11-29T10:00:00.000Z\nfreeze: expired (was frozen by carol since 2026-01-01T00:00:00.000Z until 2026-01-01T02:00:00.000Z: INC-4)',
    );
    expect(
      JSON.parse((await run(['status', '--plan', plan, '--flags', file, '--json'])).out),
    ).toMatchObject({
      rollout: { id: 'r-running' },
      freeze: { frozen: false, expired: true, by: 'carol' },
    });
    // an expired freeze is replaced by a new one
    expect(
      (await run(['freeze', '--flags', file, '--reason', 'INC-5', '--actor', 'dan'])).out,
    ).toMatch(/^froze every rollout .*: frozen by dan since \S+ until unfrozen: INC-5$/);
  });
});

describe('usage', () => {
  it.each([
    [['kill'], /kill needs the flag's name/],
    [
      ['kill', 'checkout', '--flags', 'f.json'],
      /without --plan, "kill <flag>" needs --admin <url>/,
    ],
    [
      ['kill', 'checkout', '--admin', 'http://127.0.0.1:1', '--timeout', '5s'],
      /--timeout goes with --wait/,
    ],
    [
      ['kill', 'checkout', '--admin', 'http://127.0.0.1:1', '--wait', '--timeout', 'soon'],
      /--timeout: "soon" is not a duration/,
    ],
    [
      ['pause', 'checkout', '--admin', 'http://127.0.0.1:1', '--safe-variant', 'off'],
      /--safe-variant is for kill and rollback/,
    ],
    [['kill', 'checkout', 'other', '--admin', 'http://127.0.0.1:1'], /unexpected "other"/],
    [['freeze', '--admin', 'http://127.0.0.1:1'], /freeze needs --reason/],
    [['freeze', '--reason', 'x'], /freeze needs --flags <file> or --admin <url>/],
    [
      [
        'freeze',
        '--reason',
        'x',
        '--flags',
        'f.json',
        '--for',
        '2h',
        '--until',
        '2099-01-01T00:00:00Z',
      ],
      /give --for or --until, not both/,
    ],
    [
      ['freeze', '--reason', 'x', '--flags', 'f.json', '--for', 'a while'],
      /--for: "a while" is not a duration/,
    ],
    [
      ['freeze', '--reason', 'x', '--flags', 'f.json', '--until', '2001-01-01T00:00:00Z'],
      /--until: .* is in the past/,
    ],
    [
      ['freeze', '--reason', 'x', '--flags', 'f.json', '--until', 'tomorrow'],
      /--until: "tomorrow" is not an ISO time/,
    ],
    [
      ['freeze', 'checkout', '--reason', 'x', '--flags', 'f.json'],
      /freeze acts on every rollout: name no flag/,
    ],
    [['unfreeze', '--flags', 'f.json', '--for', '2h'], /--for is for freeze, not unfreeze/],
    [['status', 'checkout'], /status needs --plan, or --flags <file> or --admin <url>/],
  ])('refuses %j with exit 2', async (argv, message) => {
    const result = await run(argv as string[]);
    expect(result.code).toBe(STEP_EXIT.usage);
    expect(result.err).toMatch(message);
    expect(result.err).toMatch(/usage: rampflag rollout/);
  });

  it('refuses --wait and --safe-variant with a plan on a flag file', async () => {
    const { file } = flagFile();
    const plan = join(dir, 'usage.plan.yaml');
    writeFileSync(plan, 'flag: checkout\ntreatment: "on"\ncontrol: "off"\nsteps: [10, 100]\n');
    const wait = await run(['kill', '--plan', plan, '--flags', file, '--wait']);
    expect(wait.code).toBe(STEP_EXIT.usage);
    expect(wait.err).toMatch(/--wait is for kill, rollback, pause and resume with --admin/);
    const safe = await run(['kill', '--plan', plan, '--flags', file, '--safe-variant', 'off']);
    expect(safe.err).toMatch(/--safe-variant is for a flag named without --plan/);
    const other = await run(['kill', 'banner', '--plan', plan, '--flags', file]);
    expect(other.err).toMatch(/the plan is for flag "checkout", not "banner"/);
  });

  it('documents the new commands, the token variables and exit code 13', async () => {
    const help = await run(['--help']);
    expect(help.out).toMatch(/kill <flag> \| rollback <flag>/);
    expect(help.out).toMatch(/freeze --reason <incident> \[--for 2h \| --until <ISO time>\]/);
    expect(help.out).toMatch(/\$RAMPFLAG_TOKEN \(else \$RAMPFLAG_ADMIN_TOKEN\), never from argv/);
    expect(help.out).toMatch(/13 not every stream was sent the change in time/);
  });
});

describe('the default audit log', () => {
  it('is rampflag-audit.jsonl beside the --flags file, where rampflag serve writes it', async () => {
    const { home, file } = flagFile();
    const plan = join(home, 'kill.plan.yaml');
    writeFileSync(plan, 'flag: checkout\ntreatment: "on"\ncontrol: "off"\nsteps: [10, 100]\n');
    const killed = await run(['kill', '--plan', plan, '--flags', file, '--actor', 'erin']);
    expect(killed.code).toBe(0);
    expect(auditIn(join(home, 'rampflag-audit.jsonl'))).toMatchObject([
      { actor: 'erin', action: 'kill', flag: 'checkout' },
    ]);
    expect((await run(['audit', '--verify', '--plan', plan, '--flags', file])).out).toMatch(
      /^audit log ok: 1 records/,
    );
  });
});
