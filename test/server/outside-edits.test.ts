import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../../src/rollout/audit.js';
import { Operations } from '../../src/server/operations.js';

const SILENT = { error() {}, warn() {}, info() {}, debug() {} };

/** A flag document whose `n` flags all serve `value`. */
const version = (n: number, value: number) =>
  JSON.stringify({
    flags: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `f${i}`,
        { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' },
      ]),
    ),
  });

/** An audit log whose writes wait until `release()`, recording what each write held. */
function slowAudit() {
  const writes: AuditEntry[][] = [];
  let release = () => {};
  let gate = new Promise<void>((done) => (release = done));
  const audit = {
    appendAll: async (entries: readonly AuditEntry[]) => {
      writes.push([...entries]);
      await gate;
      return entries.map((_, i) => `h${writes.length}-${i}`);
    },
  } as unknown as AuditLog;
  return {
    audit,
    writes,
    release: () => {
      release();
      gate = new Promise<void>((done) => (release = done));
    },
  };
}

function operationsWith(audit: AuditLog) {
  return new Operations({
    audit,
    stored: () => Promise.reject(new Error('not used')),
    exclusive: (_name, update) => update(),
    replace: () => Promise.reject(new Error('not used')),
    clock: { now: () => 0 },
    version: () => 1,
    logger: SILENT,
  });
}

describe('recording outside edits of a file faster than the log takes them', () => {
  it('holds the newest version only, and records it against the last recorded one', async () => {
    const { audit, writes, release } = slowAudit();
    const operations = operationsWith(audit);
    const first = operations.recordOutside('flags.json', version(3, 0), version(3, 1));
    // four more rewrites while the first is written: none queued on its own
    const more = [2, 3, 4, 5].map((v) =>
      operations.recordOutside('flags.json', version(3, v - 1), version(3, v)),
    );
    await Promise.all(more);
    expect(writes).toHaveLength(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writes).toHaveLength(2);
    release();
    await first;
    const [one, two] = writes as [AuditEntry[], AuditEntry[]];
    expect(one.map((e) => [e.flag, (e.after as { variants: { v: number } }).variants.v])).toEqual([
      ['f0', 1],
      ['f1', 1],
      ['f2', 1],
    ]);
    // from version 1 (the last recorded) to 5 (the newest), as one change of four versions
    expect(
      two.map((e) => [
        (e.before as { variants: { v: number } }).variants.v,
        (e.after as { variants: { v: number } }).variants.v,
      ]),
    ).toEqual([
      [1, 5],
      [1, 5],
      [1, 5],
    ]);
    expect(two[0]?.reason).toBe(
      'flags.json was changed outside the server (4 versions, recorded as one change)',
    );
    // done: the next edit is recorded on its own again
    const later = operations.recordOutside('flags.json', version(3, 5), version(3, 6));
    release();
    await later;
    expect(writes[2]?.[0]?.reason).toBe('flags.json was changed outside the server');
  });
});
