import { hostname } from 'node:os';
import type { JsonValue } from '@openfeature/core';
import { isObject } from '../evaluator/json-path.js';
import { AuditLog } from '../rollout/audit.js';
import {
  freezeView,
  isFreezeActive,
  storedFreeze,
  withFreeze,
  type FreezeView,
} from '../rollout/freeze.js';
import { fileWriter, type FlagWriter } from '../rollout/writers.js';
import { isWriteConflictError } from '../sources/flag-source.js';
import { adminClient, freezeOf, tokenFrom } from './rollout-admin.js';
import { frozenWords } from './rollout-output.js';
import {
  actorOf,
  auditPathOf,
  durationOption,
  refuseOptions,
  UsageError,
  type RolloutContext,
} from './rollout-options.js';

type Json = Record<string, unknown>;

/** How many times a freeze is re-read and re-applied after a conflicting write. */
const RETRIES = 5;

/** What a freeze asks for: its reason and its end (`--for` or `--until`), checked. */
function requestOf(ctx: RolloutContext, freezing: boolean, now: number) {
  const { values } = ctx;
  refuseOptions(values, ['plan', 'safe-variant', 'wait', 'timeout'], 'does not go with freeze');
  if (!freezing) refuseOptions(values, ['for', 'until'], 'is for freeze, not unfreeze');
  if ((values.flags === undefined) === (values.admin === undefined))
    throw new UsageError(
      `${freezing ? 'freeze' : 'unfreeze'} needs --flags <file> or --admin <url>`,
    );
  const reason = values.reason?.trim();
  if (freezing && !reason)
    throw new UsageError(
      'freeze needs --reason "<the incident>", for the audit log and everyone who sees it',
    );
  if (values.for !== undefined && values.until !== undefined)
    throw new UsageError('give --for or --until, not both');
  const lasting = durationOption(values, 'for');
  let until = lasting === undefined ? undefined : now + lasting;
  if (values.until !== undefined) {
    until = Date.parse(values.until);
    if (Number.isNaN(until)) throw new UsageError(`--until: "${values.until}" is not an ISO time`);
    if (until <= now) throw new UsageError(`--until: ${values.until} is in the past`);
  }
  return { reason: reason || 'unfrozen', until };
}

/**
 * `rampflag rollout freeze --reason … [--for 2h | --until <ISO>]` and `unfreeze [--reason …]`:
 * through the server (`--admin`: `PUT`/`DELETE /admin/freeze`, audited by the server under the
 * token's name) or in the flag file's flag-set metadata (`--flags`, compare-and-swap, audited to
 * `--audit` as action freeze/unfreeze on flag `*`). A freeze in force, or no freeze to end, is
 * "no change".
 */
export async function freezeCommand(
  ctx: RolloutContext,
  command: 'freeze' | 'unfreeze',
): Promise<number> {
  const { values, print } = ctx;
  const freezing = command === 'freeze';
  const now = Date.now();
  const asked = requestOf(ctx, freezing, now);
  let answer: { changed: boolean } & FreezeView;
  let target: string;
  if (values.admin !== undefined) {
    refuseOptions(
      values,
      ['audit', 'actor'],
      'does not go with --admin: the server audits, as the token',
    );
    const admin = adminClient(values.admin, tokenFrom(ctx.env));
    target = admin.target;
    const end =
      values.for !== undefined
        ? { for: values.for }
        : values.until !== undefined
          ? { until: new Date(asked.until as number).toISOString() }
          : {};
    const said = freezeOf(
      await admin.request(freezing ? 'PUT' : 'DELETE', '/admin/freeze', {
        role: 'admin',
        body: { reason: asked.reason, ...end },
      }),
    );
    answer = { ...said, changed: said['changed'] === true };
  } else {
    target = values.flags as string;
    const who = {
      actor: actorOf(values, ctx.env) ?? `rampflag@${hostname()}`,
      reason: asked.reason,
    };
    const log = new AuditLog(auditPathOf(values));
    answer = await writeFreeze(fileWriter(target), log, who, freezing ? asked.until : null, now);
  }
  const human = !answer.changed
    ? `no change: ${answer.frozen ? `already ${frozenWords(answer)}` : 'not frozen'}`
    : freezing
      ? `froze every rollout in ${target}: ${frozenWords(answer)}`
      : `unfroze every rollout in ${target}: rollouts may advance again`;
  print(human, answer);
  return 0;
}

/** The flag set's own parts as the server's audit records show them. */
function setParts(doc: Json): JsonValue {
  return {
    ...(doc['metadata'] === undefined ? {} : { metadata: doc['metadata'] }),
    ...(doc['$evaluators'] === undefined ? {} : { $evaluators: doc['$evaluators'] }),
  } as JsonValue;
}

/**
 * Records a freeze (`until`: its end, undefined for none; `null`: unfreeze) in the flag-set
 * metadata, compare-and-swap, audited first; a write that fails after its record gets a "not
 * written" record.
 */
async function writeFreeze(
  writer: FlagWriter,
  log: AuditLog,
  who: { readonly actor: string; readonly reason: string },
  until: number | undefined | null,
  now: number,
): Promise<{ changed: boolean } & FreezeView> {
  const action = until === null ? 'unfreeze' : 'freeze';
  for (let attempt = 0; ; attempt++) {
    const { configuration, version } = await writer.read();
    const doc = JSON.parse(configuration) as unknown;
    if (!isObject(doc)) throw new Error(`the configuration in ${writer.target} is not an object`);
    const current = storedFreeze(doc);
    if (
      until === null ? current === undefined : current !== undefined && isFreezeActive(current, now)
    )
      return { changed: false, ...freezeView(doc, now) };
    const next = withFreeze(
      doc,
      until === null
        ? undefined
        : {
            reason: who.reason,
            by: who.actor,
            since: now,
            ...(until === undefined ? {} : { until }),
          },
    );
    const record = { actor: who.actor, rolloutId: '', flag: '*', action, reason: who.reason };
    const head = await log.append({
      ...record,
      changed: true,
      evidence: null,
      before: setParts(doc),
      after: setParts(next),
    });
    try {
      await writer.write(JSON.stringify(next), version);
      return { changed: true, ...freezeView(next, now) };
    } catch (error) {
      await log
        .append({
          ...record,
          changed: false,
          reason: `not written (${(error as Error).message}): ${who.reason}`,
          evidence: { notWritten: head },
          before: setParts(doc),
          after: setParts(doc),
        })
        .catch(() => undefined);
      if (!isWriteConflictError(error) || attempt >= RETRIES) throw error;
    }
  }
}
