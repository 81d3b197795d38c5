import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AuditLog,
  GENESIS,
  hashLine,
  isAuditLogError,
  verifyAudit,
  type AuditEntry,
} from '../../src/rollout/audit.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const scratch = () => join(dir, `audit-${++files}.jsonl`);

const flag = (percent: number) => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: { fractional: [{ var: 'targetingKey' }, ['on', percent], ['off', 100 - percent]] },
});

const entry = (action: string, changed = true, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  actor: 'ci@build-7',
  rolloutId: 'r-1',
  flag: 'checkout',
  action,
  changed,
  reason: `${action} for the test`,
  evidence: { errors: { treatment: { bad: 1, total: 1000 }, interval: [-0.001, 0.002] } },
  before: flag(1),
  after: flag(5),
  ...extra,
});

/** A log of `n` records, and its text. */
async function logOf(n: number): Promise<{ log: AuditLog; text: string; heads: string[] }> {
  const log = new AuditLog(scratch(), { clock: { now: () => Date.UTC(2025, 0, 2, 3, 4, 5) } });
  const heads: string[] = [];
  for (let i = 0; i < n; i++) heads.push(await log.append(entry(`step-${i + 1}`)));
  return { log, text: await log.read(), heads };
}

// Another process appending to the same log: 50 records once it reads `go`.
const APPENDER = `
import { AuditLog } from ${JSON.stringify(resolve('src/rollout/audit.ts'))};
const log = new AuditLog(process.argv[2], { sync: false });
console.log('ready');
process.stdin.once('data', async () => {
  for (let i = 0; i < 50; i++)
    await log.append({ actor: process.argv[3], rolloutId: 'r', flag: 'f', action: 'hold',
      changed: false, reason: 'race ' + i, evidence: null, before: null, after: null });
  console.log('appended 50');
});
`;

const lines = (text: string) => text.split('\n').slice(0, -1);
const join_ = (parts: readonly string[]) => parts.map((line) => line + '\n').join('');

describe('the audit log', () => {
  it('chains every record to the SHA-256 of the line before it, from 64 zeros', async () => {
    const { log, text, heads } = await logOf(3);
    const [one, two, three] = lines(text).map((line) => JSON.parse(line) as { prev: string });
    expect(one?.prev).toBe(GENESIS);
    expect(two?.prev).toBe(hashLine(lines(text)[0] as string));
    expect(three?.prev).toBe(hashLine(lines(text)[1] as string));
    expect(heads[2]).toBe(hashLine(lines(text)[2] as string));
    expect(await log.verify(heads[2])).toEqual({
      ok: true,
      records: expect.any(Array) as unknown,
      hashes: heads,
      head: heads[2],
    });
  });

  it('records the time, actor, rollout, flag, action, change, reason, evidence, before and after', async () => {
    const { text } = await logOf(1);
    expect(JSON.parse(lines(text)[0] as string)).toEqual({
      time: '2025-01-02T03:04:05.000Z',
      actor: 'ci@build-7',
      rolloutId: 'r-1',
      flag: 'checkout',
      action: 'step-1',
      changed: true,
      reason: 'step-1 for the test',
      evidence: { errors: { treatment: { bad: 1, total: 1000 }, interval: [-0.001, 0.002] } },
      before: flag(1),
      after: flag(5),
      seq: 1,
      prev: GENESIS,
    });
  });

  it('creates the file with mode 0600 and only appends to it', async () => {
    const { log, text } = await logOf(2);
    expect(statSync(log.path).mode & 0o777).toBe(0o600);
    await log.append(entry('hold', false));
    expect(readFileSync(log.path, 'utf8').startsWith(text)).toBe(true);
  });

  it('is empty, and valid, before the first record', async () => {
    const log = new AuditLog(scratch());
    expect(await log.read()).toBe('');
    expect(await log.verify()).toEqual({ ok: true, records: [], hashes: [], head: GENESIS });
  });

  it('keeps a "__proto__" key in the evidence as a key', async () => {
    const log = new AuditLog(scratch());
    const evidence = JSON.parse('{"__proto__": {"polluted": true}}') as AuditEntry['evidence'];
    await log.append(entry('hold', false, { evidence }));
    const result = await log.verify();
    expect(result.ok && Object.keys(result.records[0]?.evidence ?? {})).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('chains onto a log another AuditLog (a restarted controller) wrote', async () => {
    const { log } = await logOf(2);
    const again = new AuditLog(log.path);
    const head = await again.append(entry('complete'));
    const result = await again.verify(head);
    expect(result.ok && result.records.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('chains onto records another process appended behind its back', async () => {
    const { log, text } = await logOf(1);
    const other = new AuditLog(log.path);
    await other.append(entry('advance'));
    const head = await log.append(entry('advance'));
    expect((await log.verify(head)).ok).toBe(true);
    expect(lines(await log.read())).toHaveLength(3);
    expect((await log.read()).startsWith(text)).toBe(true);
  });

  it('appends many records at once, chained in order, all or nothing', async () => {
    const { log } = await logOf(1);
    const heads = await log.appendAll([entry('a'), entry('b'), entry('c')]);
    const result = await log.verify(heads[2]);
    expect(result.ok && result.records.map((r) => [r.seq, r.action])).toEqual([
      [1, 'step-1'],
      [2, 'a'],
      [3, 'b'],
      [4, 'c'],
    ]);
    expect(heads.map((h, i) => result.ok && result.records[i + 1]?.prev)).toEqual([
      hashLine(lines(await log.read())[0] as string),
      heads[0],
      heads[1],
    ]);
    const before = await log.read();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(
      log.appendAll([entry('d'), entry('e', true, { evidence: cyclic as never })]),
    ).rejects.toThrow(/not JSON/);
    expect(await log.read()).toBe(before); // the good record before it was not written either
    expect(await log.appendAll([])).toEqual([]);
  });

  it('never interleaves 100 concurrent appends: one valid chain of 100', async () => {
    const path = scratch();
    const logs = [new AuditLog(path), new AuditLog(path)]; // two logs on one file take turns too
    const heads = await Promise.all(
      Array.from({ length: 100 }, (_, i) => logs[i % 2]?.append(entry(`a${i}`)) as Promise<string>),
    );
    const result = await new AuditLog(path).verify();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.records).toHaveLength(100);
    expect(new Set(result.records.map((r) => r.prev)).size).toBe(100);
    expect(new Set(heads).size).toBe(100);
    expect(heads).toContain(result.head);
  });

  it('never lets two processes chain to the same record: 2 × 50 appends, one chain of 100', async () => {
    const path = scratch();
    const script = join(dir, 'appender.mjs');
    writeFileSync(script, APPENDER);
    const appenders = [0, 1].map((id) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, path, `p${id}`], {
        cwd: resolve('.'),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const ready = new Promise<void>((done) =>
        child.stdout.on('data', () => (output.includes('ready') ? done() : undefined)),
      );
      const exited = new Promise<string>((done) => child.on('close', () => done(output)));
      return { child, ready, exited };
    });
    await Promise.all(appenders.map((a) => a.ready));
    for (const { child } of appenders) child.stdin.end('go\n'); // both start at once
    const outputs = await Promise.all(appenders.map((a) => a.exited));
    expect(outputs.map((o) => o.trim().split('\n').at(-1))).toEqual(['appended 50', 'appended 50']);
    const result = verifyAudit(readFileSync(path, 'utf8'));
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.records).toHaveLength(100);
    expect(new Set(result.records.map((r) => r.actor))).toEqual(new Set(['p0', 'p1']));
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 60_000);

  it('records a repeated kill as "no change"', async () => {
    const log = new AuditLog(scratch());
    const killed = { ...flag(0), targeting: {}, defaultVariant: 'off' };
    await log.append(entry('kill', true, { before: flag(25), after: killed }));
    await log.append(entry('kill', false, { reason: 'no change', before: killed, after: killed }));
    const head = await log.append(
      entry('kill', false, { reason: 'no change', before: killed, after: killed }),
    );
    const result = await log.verify(head);
    expect(result.ok && result.records.map((r) => [r.action, r.changed])).toEqual([
      ['kill', true],
      ['kill', false],
      ['kill', false],
    ]);
  });

  it('refuses a record over the size limit, and writes nothing', async () => {
    const log = new AuditLog(scratch(), { maxRecordBytes: 200 });
    const error: unknown = await log.append(entry('start')).catch((e: unknown) => e);
    expect(isAuditLogError(error)).toBe(true);
    expect((error as Error).message).toMatch(/over the limit of 200/);
    expect(await log.read()).toBe('');
  });

  it('refuses evidence that is not JSON', async () => {
    const log = new AuditLog(scratch());
    const evidence = { big: 1n } as unknown as AuditEntry['evidence'];
    const error: unknown = await log.append(entry('hold', false, { evidence })).catch((e) => e);
    expect(isAuditLogError(error)).toBe(true);
    expect(await log.read()).toBe('');
  });

  it('refuses to read a log over the size limit, naming it', async () => {
    const { log } = await logOf(3);
    const small = new AuditLog(log.path, { maxBytes: 100 });
    await expect(small.read()).rejects.toThrow(/bytes, over the limit of 100/);
  });

  it('refuses to append after a cut-off last line, and says why', async () => {
    const { log, text } = await logOf(2);
    writeFileSync(log.path, text + '{"time":"2025');
    const error: unknown = await new AuditLog(log.path).append(entry('x')).catch((e) => e);
    expect(isAuditLogError(error)).toBe(true);
    expect((error as Error).message).toMatch(/cut-off line/);
    expect(existsSync(`${log.path}.lock`)).toBe(false); // the lock goes with the failure
  });

  it('waits for another process holding the lock, then says who holds it', async () => {
    const path = scratch();
    writeFileSync(`${path}.lock`, `4242 ${Date.now()} x`);
    const error: unknown = await new AuditLog(path).append(entry('x')).catch((e) => e);
    expect(isAuditLogError(error)).toBe(true);
    expect((error as Error).message).toMatch(/cannot lock .*\.lock: held by pid 4242/);
    expect(existsSync(path)).toBe(false); // nothing written
  }, 10_000);
});

describe('verifyAudit', () => {
  const problemOf = (text: string, head?: string) => {
    const result = verifyAudit(text, head);
    return result.ok ? undefined : { line: result.line, problem: result.problem };
  };

  it.each([1, 2, 3])('finds line %i changed', async (n) => {
    const { text } = await logOf(4);
    const parts = lines(text);
    parts[n - 1] = (parts[n - 1] as string).replace('"changed":true', '"changed":false');
    expect(problemOf(join_(parts))).toEqual({
      line: n,
      problem: `line ${n} was changed: line ${n + 1}'s prev is not its hash`,
    });
  });

  it.each([1, 2, 3])('finds line %i removed', async (n) => {
    const { text } = await logOf(4);
    const parts = lines(text);
    parts.splice(n - 1, 1);
    expect(problemOf(join_(parts))).toMatchObject({
      line: n,
      problem: expect.stringMatching(/removed/) as unknown,
    });
  });

  it('finds two lines swapped', async () => {
    const { text } = await logOf(4);
    const [a, b, c, d] = lines(text) as [string, string, string, string];
    expect(problemOf(join_([a, c, b, d]))).toEqual({
      line: 2,
      problem: 'line 2 is out of order: its prev is the hash of line 3',
    });
  });

  it('finds a line repeated', async () => {
    const { text } = await logOf(3);
    const [a, b, c] = lines(text) as [string, string, string];
    expect(problemOf(join_([a, b, b, c]))).toMatchObject({ line: 3 });
  });

  it('finds a line that is not JSON, or not a record', async () => {
    const { text } = await logOf(3);
    const parts = lines(text);
    expect(problemOf(join_([parts[0] as string, 'oops', ...parts.slice(2)]))).toEqual({
      line: 2,
      problem: 'line 2 is not JSON',
    });
    expect(problemOf(join_([parts[0] as string, '[1]', ...parts.slice(2)]))).toEqual({
      line: 2,
      problem: 'line 2 is not an audit record: not an object',
    });
  });

  it('finds a line renumbered', async () => {
    const { text } = await logOf(2);
    const parts = lines(text);
    parts[1] = (parts[1] as string).replace('"seq":2', '"seq":7');
    expect(problemOf(join_(parts))).toMatchObject({ line: 2 });
  });

  it('reports a final line cut off mid-write as such', async () => {
    const { text } = await logOf(3);
    const cut = text.slice(0, text.length - 20);
    expect(problemOf(cut)).toEqual({
      line: 3,
      problem: 'line 3 is cut off (no final newline): a write was interrupted, e.g. by a crash',
    });
  });

  it('finds the last line removed or changed only given the expected head', async () => {
    const { text, heads } = await logOf(3);
    const parts = lines(text);
    const removed = join_(parts.slice(0, 2));
    expect(verifyAudit(removed).ok).toBe(true);
    expect(problemOf(removed, heads[2])).toEqual({
      line: 2,
      problem: `line 2 is not the head the flag records (${heads[2]}): line 2 was changed, or the lines after it were removed`,
    });
    const changed = join_([...parts.slice(0, 2), (parts[2] as string).replace('ci@', 'me@')]);
    expect(verifyAudit(changed).ok).toBe(true);
    expect(problemOf(changed, heads[2])).toMatchObject({ line: 3 });
    expect(problemOf('', heads[2])).toMatchObject({
      line: 1,
      problem: expect.stringMatching(/empty/) as unknown,
    });
  });

  it('accepts the log whole with its head', async () => {
    const { text, heads } = await logOf(3);
    const result = verifyAudit(text, heads[2]);
    expect(result.ok && result.records.map((r) => r.action)).toEqual([
      'step-1',
      'step-2',
      'step-3',
    ]);
  });
});
