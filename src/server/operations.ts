import type { JsonValue, Logger } from '@openfeature/core';
import {
  InvalidConfigurationError,
  isInvalidConfigurationError,
  validateConfiguration,
  type Clock,
} from '../evaluator/index.js';
import { parseJsonText } from '../evaluator/json-limits.js';
import type { AuditAction, AuditLog } from '../rollout/audit.js';
import { flagIn } from '../rollout/flag-doc.js';
import { activeFreeze, describeFreeze } from '../rollout/freeze.js';
import { readRollout } from '../rollout/state.js';
import { advancesRollout } from '../rollout/transitions.js';
import { isWriteConflictError } from '../sources/flag-source.js';
import type { StoredConfiguration } from './admin-api.js';
import { beyondTraffic, flagChanges, type FlagChangeRecord } from './flag-changes.js';
import { refuseNewWarnings } from './admin-checks.js';
import { namingSource, readSourceDoc, type SourceDoc } from './flag-sets.js';
import { etagOf } from './http-util.js';
import { Refusal } from './refusal.js';

type Json = Record<string, unknown>;
type Changes = Record<'added' | 'removed' | 'changed', string[]>;

/** What {@link Operations} needs from the server. @internal */
export interface OperationsDeps {
  /** A source's configuration as stored now. */
  stored(name: string): Promise<StoredConfiguration>;
  /** Runs `update` with no other update of the same source in between. */
  exclusive<T>(name: string, update: () => Promise<T>): Promise<T>;
  /** Validates, serves and stores, compare-and-swap (see `SourceStore.replace`). */
  replace(name: string, configuration: string, expected: string | undefined): Promise<Changes>;
  /** The audit log every change is appended to; undefined: changes are not audited. */
  readonly audit: AuditLog | undefined;
  readonly clock: Clock;
  /** The server's configuration version now. */
  version(): number;
  readonly logger: Logger;
}

/** How one change is made and recorded. @internal */
export interface MutationOptions {
  /** Who acts: a token's name, `local`, `file`. */
  readonly actor: string;
  readonly action: AuditAction;
  readonly reason: string;
  readonly evidence?: JsonValue;
  /** An `If-Match` header: the change goes ahead only when it matches what is stored. */
  readonly ifMatch?: string | undefined;
  /** A flag to record a "no change" for when nothing changes (a repeated kill, a re-sent alert). */
  readonly noChangeFlag?: string;
  /** Only traffic may move (the `rollout` role): see `beyondTraffic`. */
  readonly trafficOnly?: boolean;
  /** Go ahead, and say so, when the audit log cannot be written (the kill switch, a rollback). */
  readonly evenUnaudited?: boolean;
}

/** What a change did. @internal */
export interface Mutation {
  readonly changed: boolean;
  readonly changes: Changes;
  /** The ETag of what the source stores now. */
  readonly etag: string;
  /** The server's configuration version carrying the change. */
  readonly version: number;
  /** Set when the change went ahead without its audit record. */
  readonly unaudited?: string;
}

/** The next configuration given what is stored: a document, text (a PUT), nothing to change, or a refusal. */
export type ChangeOf = (doc: Json | undefined) => Json | string | undefined | Refusal;

/** Whether `header` (`*` or a list of strong tags, RFC 9110 §13.1.1) lets a write to `etag` go ahead. */
export function ifMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === etag);
}

/** A flag's rollout id as its metadata records it, or '' (broken metadata too). */
function rolloutIdOf(flag: JsonValue): string {
  try {
    return readRollout(flag)?.id ?? '';
  } catch {
    return '';
  }
}

/** An outside change being recorded: the newest version since, and how many versions it stands for. */
interface OutsideRecording {
  newest: string | undefined;
  skipped: number;
}

/**
 * Every change the server makes to its sources: one source at a time, `If-Match` checked against
 * what the source stores, refused while a freeze forbids it, appended to the audit log first (one
 * record per flag, with the actor and the definitions before and after), then stored
 * compare-and-swap; a write that fails after its records gets a "not written" record.
 * @internal
 */
export class Operations {
  readonly #deps: OperationsDeps;

  /** Sources whose outside change is being recorded, with the newest version waiting. */
  readonly #outside = new Map<string, OutsideRecording>();

  constructor(deps: OperationsDeps) {
    this.#deps = deps;
  }

  /** Changes source `name` as `change` says. Resolves with a refusal or what was done. */
  mutate(name: string, options: MutationOptions, change: ChangeOf): Promise<Refusal | Mutation> {
    return this.#deps.exclusive(name, () => this.#mutate(name, options, change));
  }

  /**
   * Records the changes between two versions of a source the server did not make (a file edit).
   * While one such recording is under way for a source, newer versions are not queued each: the
   * newest waits, and is recorded next against the version last recorded. A file rewritten faster
   * than its changes are written to the log so costs the log some intermediate versions, never
   * the server its memory.
   */
  async recordOutside(name: string, previous: string, next: string): Promise<void> {
    const underWay = this.#outside.get(name);
    if (underWay !== undefined) {
      underWay.newest = next;
      underWay.skipped++;
      return;
    }
    const state: OutsideRecording = { newest: undefined, skipped: 0 };
    this.#outside.set(name, state);
    try {
      let [from, to, versions] = [previous, next, 1];
      for (;;) {
        const changes = flagChanges(readSourceDoc(name, from), readSourceDoc(name, to));
        await this.#record(changes, {
          actor: 'file',
          action: 'edit',
          reason: `${name} was changed outside the server${versions > 1 ? ` (${versions} versions, recorded as one change)` : ''}`,
        });
        if (state.newest === undefined) return;
        [from, to, versions] = [to, state.newest, state.skipped];
        [state.newest, state.skipped] = [undefined, 0];
      }
    } finally {
      this.#outside.delete(name);
    }
  }

  async #mutate(
    name: string,
    options: MutationOptions,
    change: ChangeOf,
  ): Promise<Refusal | Mutation> {
    const stored = await this.#deps.stored(name);
    const etag = etagOf(stored.json);
    if (!ifMatches(options.ifMatch, etag))
      return new Refusal(
        412,
        'the configuration changed since it was read (If-Match does not match)',
        { etag },
      );
    const doc = parsed(stored.json);
    const next = change(doc);
    if (next instanceof Refusal) return next;
    const unchanged: Mutation = {
      changed: false,
      changes: { added: [], removed: [], changed: [] },
      etag,
      version: this.#deps.version(),
    };
    if (next === undefined) return this.#noChange(options, doc, unchanged);
    const text = typeof next === 'string' ? next : JSON.stringify(next);
    let nextDoc: SourceDoc;
    try {
      nextDoc = readSourceDoc(name, text);
    } catch (error) {
      if (isInvalidConfigurationError(error))
        return new Refusal(400, error.message, { issues: error.issues });
      throw error;
    }
    if (parsed(nextDoc.json) === undefined)
      return new Refusal(400, 'the configuration is not a JSON object with "flags"');
    let changes: FlagChangeRecord[];
    try {
      changes = flagChanges(tryRead(name, stored.json), nextDoc);
    } catch (error) {
      // e.g. a flag in the array form that is not an object: the evaluator would refuse it too
      return new Refusal(400, `the configuration is not a flag set: ${(error as Error).message}`);
    }
    if (changes.length === 0) return this.#noChange(options, doc, unchanged);
    const refused =
      this.#refusal(options, changes, doc, nextDoc) ?? invalidIn(name, stored.json, nextDoc.json);
    if (refused !== undefined) return refused;
    let heads: string[];
    let unaudited: string | undefined;
    try {
      heads = await this.#record(changes, options);
    } catch (error) {
      if (!options.evenUnaudited)
        return new Refusal(
          503,
          `the audit log cannot be written, so nothing was changed: ${(error as Error).message}`,
        );
      heads = [];
      unaudited = (error as Error).message;
      this.#deps.logger.error(`flag server: ${options.action} goes ahead unaudited: ${unaudited}`);
    }
    try {
      const changed = await this.#deps.replace(name, text, stored.raw);
      return {
        changed: true,
        changes: changed,
        etag: etagOf((await this.#deps.stored(name)).json),
        version: this.#deps.version(),
        ...(unaudited === undefined ? {} : { unaudited }),
      };
    } catch (error) {
      await this.#notWritten(changes, heads, options, error as Error);
      if (isInvalidConfigurationError(error))
        return new Refusal(400, error.message, { issues: error.issues });
      if (isWriteConflictError(error))
        return new Refusal(
          412,
          `the configuration changed while it was being written: ${error.message}`,
        );
      throw error;
    }
  }

  /** Why a change may not be made (the role, a freeze), or undefined. */
  #refusal(
    options: MutationOptions,
    changes: readonly FlagChangeRecord[],
    doc: Json | undefined,
    next: SourceDoc,
  ): Refusal | undefined {
    if (options.trafficOnly) {
      const beyond = beyondTraffic(changes);
      if (beyond !== undefined)
        return new Refusal(
          403,
          `a "rollout" token may only move traffic (targeting, defaultVariant, rollout.* metadata); this changes ${beyond}: that needs "admin"`,
        );
    }
    const now = this.#deps.clock.now();
    const freeze = activeFreeze(doc, now) ?? activeFreeze({ metadata: next.metadata }, now);
    const advanced = changes.find((c) => advancesRollout(c.before, c.after));
    if (freeze !== undefined && advanced !== undefined)
      return new Refusal(
        423,
        `${describeFreeze(freeze)}; flag "${advanced.flag}" would advance its rollout`,
      );
    // A rollout token could move traffic forward by other means (a targeting edit, a status):
    // while frozen it may only kill, roll back, pause and resume; an admin may still edit.
    if (freeze !== undefined && options.trafficOnly && changes.length > 0)
      return new Refusal(
        423,
        `${describeFreeze(freeze)}; until it ends, a "rollout" token may only kill, roll back, pause and resume (an "admin" token may still edit)`,
      );
    return undefined;
  }

  async #noChange(
    options: MutationOptions,
    doc: Json | undefined,
    unchanged: Mutation,
  ): Promise<Mutation> {
    const key = options.noChangeFlag;
    if (key === undefined || this.#deps.audit === undefined) return unchanged;
    const flag = ((doc === undefined ? undefined : flagIn(doc, key)) ?? null) as JsonValue;
    await this.#deps.audit
      .append({
        ...this.#base(options),
        rolloutId: rolloutIdOf(flag),
        flag: key,
        changed: false,
        reason: `${options.reason}: no change`,
        before: flag,
        after: flag,
      })
      .catch((error: unknown) =>
        this.#deps.logger.warn(`flag server: audit: ${(error as Error).message}`),
      );
    return unchanged;
  }

  #base(options: MutationOptions) {
    return { actor: options.actor, action: options.action, evidence: options.evidence ?? null };
  }

  /** Appends one record per changed flag; resolves with their hashes. */
  async #record(changes: readonly FlagChangeRecord[], options: MutationOptions): Promise<string[]> {
    const audit = this.#deps.audit;
    if (audit === undefined) return [];
    // one write and one sync for the whole change, however many flags it touches
    return audit.appendAll(
      changes.map(({ flag, before, after }) => ({
        ...this.#base(options),
        rolloutId: rolloutIdOf(after) || rolloutIdOf(before),
        flag,
        changed: true,
        reason: options.reason,
        before,
        after,
      })),
    );
  }

  /** Cancels the records of a change that was not stored, so the log says what really happened. */
  async #notWritten(
    changes: readonly FlagChangeRecord[],
    heads: readonly string[],
    options: MutationOptions,
    error: Error,
  ): Promise<void> {
    const audit = this.#deps.audit;
    if (audit === undefined) return;
    for (const [i, head] of heads.entries()) {
      const change = changes[i] as FlagChangeRecord;
      await audit
        .append({
          ...this.#base(options),
          rolloutId: rolloutIdOf(change.before),
          flag: change.flag,
          changed: false,
          reason: `not written (${error.message}): ${options.reason}`,
          evidence: { notWritten: head },
          before: change.before,
          after: change.before,
        })
        .catch(() => undefined);
    }
  }
}

/**
 * A refusal for a configuration the server would refuse to serve, found before anything is
 * audited: its errors, and rules that cannot evaluate it adds (see `refuseNewWarnings`).
 */
function invalidIn(name: string, previous: string, next: string): Refusal | undefined {
  try {
    const errors = validateConfiguration(next).filter((issue) => issue.severity === 'error');
    if (errors.length > 0)
      namingSource(name, () => {
        throw new InvalidConfigurationError(errors);
      });
    refuseNewWarnings(name, previous, next);
    return undefined;
  } catch (error) {
    if (!isInvalidConfigurationError(error)) throw error;
    return new Refusal(400, error.message, { issues: error.issues });
  }
}

/** The stored configuration as a document, or undefined when it is not one (a PUT may mend it). */
function parsed(json: string): Json | undefined {
  try {
    const value = parseJsonText(json, { maxBytes: Infinity, maxDepth: Infinity });
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Json)
      : undefined;
  } catch {
    return undefined;
  }
}

function tryRead(name: string, json: string): SourceDoc | undefined {
  try {
    const doc = readSourceDoc(name, json);
    void [doc.flags, doc.evaluators, doc.metadata]; // parsed lazily: a broken one throws here
    return doc;
  } catch {
    return undefined;
  }
}
