import { hostname } from 'node:os';
import { createHash, randomUUID } from 'node:crypto';
import type { JsonValue } from '@openfeature/core';
import type { Clock } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { isWriteConflictError } from '../sources/flag-source.js';
import type { AuditAction, AuditLog, AuditRecord } from './audit.js';
import { decide, type Decision, type RolloutStatus, type StepEvidence } from './decide.js';
import { checkPlanAgainstFlag, targetingAt, treatmentShare } from './flag-shape.js';
import { PlanError, type RolloutPlan, type RolloutStep } from './plan.js';
import { queryFor, type MetricReader } from './readers.js';
import { flagIn, replaceFlag } from './flag-doc.js';
import { activeFreeze, describeFreeze } from './freeze.js';
import { readRollout, withRollout, type StoredRollout } from './state.js';
import { SAFE_VARIANT_KEY, toPausedOrRunning, toSafeVariant } from './transitions.js';
import type { FlagWriter } from './writers.js';

type Json = Record<string, unknown>;

/** A controller lost its flag to another writer, or its rollout to another id: it stops. */
export class RolloutConflictError extends Error {
  override readonly name = 'RolloutConflictError';
}

/** A rollout cannot move forward while an incident freeze is on; the step holds. */
export class RolloutFrozenError extends Error {
  override readonly name = 'RolloutFrozenError';
}

/** Throws a {@link RolloutFrozenError} when `doc`'s flag-set metadata records a freeze in force. */
function refuseWhileFrozen(doc: Json, now: number): void {
  const freeze = activeFreeze(doc, now);
  if (freeze !== undefined) throw new RolloutFrozenError(describeFreeze(freeze));
}

/** Options of {@link RolloutController}. */
export interface RolloutControllerOptions {
  readonly plan: RolloutPlan;
  /** The flag's source of truth: a file, the server's admin API, an in-memory source. */
  readonly writer: FlagWriter;
  readonly reader: MetricReader;
  readonly audit: AuditLog;
  /** Who acts, for the audit log. Default `rampflag@<host>`. */
  readonly actor?: string;
  readonly clock?: Clock;
  /** Rollout ids for new rollouts. Default random UUIDs. */
  readonly newId?: () => string;
  /** Compare-and-swap attempts before giving up on a busy flag. Default 5. */
  readonly retries?: number;
}

/** What one call did. */
export interface RolloutOutcome {
  readonly action: Decision['action'] | 'start' | 'pause' | 'resume' | 'kill';
  /** Whether the flag was written. */
  readonly changed: boolean;
  readonly reason: string;
  readonly rollout: StoredRollout;
  readonly decision?: Decision;
}

const SYSTEM_CLOCK: Clock = { now: () => Date.now() };
const TERMINAL: readonly RolloutStatus[] = ['completed', 'rolled-back', 'killed'];
/** Errors that retrying cannot mend: another controller owns the rollout, or the plan is refused. */
const FINAL_ERRORS: readonly string[] = ['RolloutConflictError', 'PlanError'];

/** The percentage a step puts on the treatment. */
const percentOf = (step: RolloutStep | undefined) => (step?.kind === 'percent' ? step.percent : 0);

/**
 * Drives one flag through a plan. Each call reads the flag from its source of truth, acts, and writes
 * it back compare-and-swap; the rollout's state lives in the flag's metadata, and every change is
 * appended to the audit log first (with the hash of that record written into the flag as
 * `rollout.audit`). A controller that finds its rollout moved by someone else, or another rollout on
 * its flag, stops with a {@link RolloutConflictError}. Owns no timers but {@link run}'s.
 */
export class RolloutController {
  readonly #plan: RolloutPlan;
  readonly #writer: FlagWriter;
  readonly #reader: MetricReader;
  readonly #audit: AuditLog;
  readonly #actor: string;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #retries: number;
  /** A fingerprint of the plan, kept in the flag: a rollout is driven by the plan it started with. */
  readonly #planHash: string;

  constructor(options: RolloutControllerOptions) {
    this.#plan = options.plan;
    this.#writer = options.writer;
    this.#reader = options.reader;
    this.#audit = options.audit;
    this.#actor = options.actor ?? `rampflag@${hostname()}`;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#newId = options.newId ?? randomUUID;
    this.#retries = options.retries ?? 5;
    this.#planHash = createHash('sha256')
      .update(JSON.stringify(options.plan))
      .digest('hex')
      .slice(0, 12);
  }

  /** The flag as stored now, and the rollout its metadata records (if any). */
  async status(): Promise<{ flag: Json; rollout: StoredRollout | undefined }> {
    const { flag } = await this.#read();
    return { flag, rollout: readRollout(flag) };
  }

  /**
   * Starts the rollout: checks the plan against the flag (throws a {@link PlanError} naming every
   * problem, writing nothing), writes the first step's targeting, the seed's shape on a flag without
   * targeting, and records `rollout.*` in the flag's metadata. A rollout already running on the flag
   * is a {@link RolloutConflictError}.
   */
  async start(): Promise<RolloutOutcome> {
    const id = this.#newId();
    const earlier = await this.#targetingBeforeLastRollout();
    return this.#change('start', 'rollout started', undefined, (currentFlag, current, doc) => {
      refuseWhileFrozen(doc, this.#clock.now());
      if (current !== undefined && !TERMINAL.includes(current.status))
        throw new RolloutConflictError(
          `flag "${this.#plan.flag}" already has rollout ${current.id} (${current.status})`,
        );
      // after a rollback or kill (no targeting left), start again from the shape the flag had
      // before the last rollout: its ring rule, its bucketing key
      const flag =
        current !== undefined && currentFlag['targeting'] === undefined && earlier !== undefined
          ? { ...currentFlag, targeting: earlier }
          : currentFlag;
      const issues = checkPlanAgainstFlag(this.#plan, flag);
      const step = this.#plan.steps[0];
      const now = treatmentShare(this.#plan, flag);
      if (now > percentOf(step))
        issues.push({
          path: 'steps[0]',
          message: `the flag already gives "${this.#plan.treatment}" ${now} % of users; a first step of ${percentOf(step)} % would take it from some of them`,
        });
      if (issues.length > 0) throw new PlanError(issues);
      const metadata = isObject(currentFlag['metadata']) ? currentFlag['metadata'] : {};
      const next = {
        ...currentFlag,
        targeting: targetingAt(this.#plan, flag, step),
        // where the server's kill switch and alert rollbacks take the flag
        metadata: { ...metadata, [SAFE_VARIANT_KEY]: this.#plan.safeVariant },
      };
      return {
        flag: next,
        rollout: {
          id,
          status: 'running',
          step: 0,
          percent: percentOf(step),
          since: this.#clock.now(),
          auditHead: undefined,
          planHash: this.#planHash,
        },
      };
    });
  }

  /**
   * Makes one decision ({@link decide}) on the evidence of every step so far, and carries it out:
   * advance to the next step, complete, roll back to the safe variant, or hold (nothing written).
   */
  async step(): Promise<RolloutOutcome> {
    try {
      return await this.#decideAndAct();
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'RolloutFrozenError') throw error;
      const rollout = this.#own(readRollout((await this.#read()).flag));
      return { action: 'hold', changed: false, reason: error.message, rollout };
    }
  }

  async #decideAndAct(): Promise<RolloutOutcome> {
    const { doc, flag } = await this.#read();
    const rollout = this.#samePlan(this.#own(readRollout(flag)));
    // a paused rollout is still judged, for harm alone
    if (rollout.status !== 'running' && rollout.status !== 'paused')
      return {
        action: 'hold',
        changed: false,
        reason: `the rollout is ${rollout.status}`,
        rollout,
      };
    const now = this.#clock.now();
    const evidence = { steps: await this.#evidence(rollout, now) };
    const decision = decide(this.#plan, rollout, evidence, now);
    if (decision.action === 'advance') refuseWhileFrozen(doc, now);
    const auditEvidence = {
      guardrails: decision.guardrails,
      ...(decision.srm ? { srm: decision.srm } : {}),
    } as unknown as JsonValue;
    switch (decision.action) {
      case 'hold':
        return { action: 'hold', changed: false, reason: decision.reason, rollout, decision };
      case 'rollback':
        return {
          ...(await this.#safe('rollback', 'rolled-back', decision.reason, rollout, auditEvidence)),
          decision,
        };
      case 'complete':
        return {
          ...(await this.#change('complete', decision.reason, auditEvidence, (f, current) => ({
            flag: f,
            rollout: { ...this.#same(rollout, current), status: 'completed' },
          }))),
          decision,
        };
      case 'advance': {
        const index = rollout.step + 1;
        const step = this.#plan.steps[index];
        return {
          ...(await this.#change('advance', decision.reason, auditEvidence, (f, current, d) => {
            refuseWhileFrozen(d, this.#clock.now());
            return {
              flag: { ...f, targeting: targetingAt(this.#plan, f, step) },
              rollout: {
                ...this.#same(rollout, current),
                step: index,
                percent: percentOf(step),
                since: now,
              },
            };
          })),
          decision,
        };
      }
    }
  }

  /** Rolls back by hand to the safe variant; a repeat changes nothing and says so. */
  rollback(reason = 'rolled back by hand'): Promise<RolloutOutcome> {
    return this.#safe('rollback', 'rolled-back', reason, undefined, null);
  }

  /**
   * The kill switch: the safe variant, served by name, at once, whatever the rollout's state (even
   * with no rollout recorded). Idempotent: a repeat writes nothing and records "no change".
   */
  kill(reason = 'kill switch'): Promise<RolloutOutcome> {
    return this.#safe('kill', 'killed', reason, undefined, null);
  }

  /** Stops advancing (rollbacks on harm still happen through {@link step} once resumed). */
  pause(reason = 'paused by hand'): Promise<RolloutOutcome> {
    return this.#status('pause', 'paused', reason);
  }

  resume(reason = 'resumed by hand'): Promise<RolloutOutcome> {
    return this.#status('resume', 'running', reason);
  }

  /**
   * Calls {@link step} every `checkEvery` until the rollout completes, rolls back or is stopped
   * (`signal`), reporting each outcome. A failure that may pass (metrics or the flag's store
   * unreachable) is reported to `onError` and retried at the next check, up to `maxFailures` in a
   * row; a conflict with another controller or a refused plan ends the run at once. Resolves with
   * the last outcome.
   */
  async run(
    options: {
      signal?: AbortSignal;
      onStep?: (outcome: RolloutOutcome) => void;
      onError?: (error: Error, failures: number) => void;
      maxFailures?: number;
      sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    } = {},
  ): Promise<RolloutOutcome> {
    const sleep = options.sleep ?? defaultSleep;
    const maxFailures = options.maxFailures ?? 10;
    let failures = 0;
    let last: RolloutOutcome | undefined;
    for (;;) {
      try {
        last = await this.step();
        failures = 0;
        options.onStep?.(last);
        if (TERMINAL.includes(last.rollout.status)) return last;
      } catch (error) {
        const e = error as Error;
        if (FINAL_ERRORS.includes(e.name) || ++failures >= maxFailures) throw error;
        options.onError?.(e, failures);
      }
      if (!options.signal?.aborted) await sleep(this.#plan.checkEveryMs, options.signal);
      if (options.signal?.aborted) {
        if (last !== undefined) return last;
        throw new Error('stopped before the first decision');
      }
    }
  }

  // ---- internals ----

  async #read() {
    const { configuration, version } = await this.#writer.read();
    const doc = JSON.parse(configuration) as Json;
    const flag = flagIn(doc, this.#plan.flag);
    if (flag === undefined)
      throw new PlanError([
        {
          path: `flags.${this.#plan.flag}`,
          message: `no flag "${this.#plan.flag}" in ${this.#writer.target}`,
        },
      ]);
    return { doc, flag, version };
  }

  #own(rollout: StoredRollout | undefined): StoredRollout {
    if (rollout === undefined)
      throw new RolloutConflictError(`flag "${this.#plan.flag}" has no rollout: start one first`);
    return rollout;
  }

  /**
   * The targeting the flag had before the last rollout that started from one, from the audit log's
   * `start` records, if known.
   */
  async #targetingBeforeLastRollout(): Promise<unknown> {
    const verified = await this.#audit.verify().catch(() => undefined);
    if (verified?.ok !== true) return undefined;
    const shapes = verified.records.flatMap((r) =>
      r.flag === this.#plan.flag && r.action === 'start' && r.changed && isObject(r.before)
        ? r.before['targeting'] === undefined
          ? []
          : [r.before['targeting']]
        : [],
    );
    return shapes.at(-1);
  }

  /** Throws unless the rollout was started with this plan (kill and rollback work with any). */
  #samePlan(rollout: StoredRollout): StoredRollout {
    if (rollout.planHash !== undefined && rollout.planHash !== this.#planHash)
      throw new RolloutConflictError(
        `rollout ${rollout.id} was started with another plan (fingerprint ${rollout.planHash}, this one ${this.#planHash}): drive it with the plan it started with, or roll it back and start again`,
      );
    return rollout;
  }

  /** Throws unless the flag's rollout is still the one a decision was made on. */
  #same(decidedOn: StoredRollout, current: StoredRollout | undefined): StoredRollout {
    if (current === undefined || current.id !== decidedOn.id)
      throw new RolloutConflictError(
        `flag "${this.#plan.flag}" now has ${current ? `rollout ${current.id}` : 'no rollout'}, not ${decidedOn.id}: this controller stops`,
      );
    if (
      current.step !== decidedOn.step ||
      current.status !== decidedOn.status ||
      current.since !== decidedOn.since
    )
      throw new RolloutConflictError(
        `rollout ${current.id} was moved by someone else (now step ${current.step}, ${current.status}): this controller stops`,
      );
    return current;
  }

  /**
   * Every step's evidence so far: one window per step, its bounds from the audit log's records of
   * writes that happened (a record a later "not written" record cancels does not count). If the log
   * cannot be verified, only the current step is judged: a broken log must not stop a rollback.
   */
  async #evidence(rollout: StoredRollout, now: number): Promise<StepEvidence[]> {
    const starts = new Map<number, number>();
    const verified = await this.#audit.verify().catch(() => undefined);
    if (verified?.ok === true) {
      const cancelled = new Set(
        verified.records.flatMap((r) => {
          const hash = (r.evidence as { notWritten?: unknown } | null)?.notWritten;
          return typeof hash === 'string' ? [hash] : [];
        }),
      );
      verified.records.forEach((record: AuditRecord, i) => {
        if (record.rolloutId !== rollout.id || !record.changed) return;
        if (cancelled.has(verified.hashes[i] as string)) return;
        const step = safely(() => readRollout(record.after)?.step);
        if (step !== undefined && !starts.has(step)) starts.set(step, Date.parse(record.time));
      });
    }
    starts.set(rollout.step, rollout.since);
    const steps: StepEvidence[] = [];
    for (let index = verified?.ok === true ? 0 : rollout.step; index <= rollout.step; index++) {
      const from = starts.get(index);
      if (from === undefined) continue;
      const to = index === rollout.step ? now : (starts.get(index + 1) ?? now);
      const step = this.#plan.steps[index];
      const rings =
        step?.kind === 'ring'
          ? step.rings
          : index === 0 && step === undefined
            ? []
            : (this.#plan.rings?.stages ?? []);
      steps.push({
        step: index,
        ...(await this.#reader.read(queryFor(this.#plan, rings, from, to))),
      });
    }
    return steps;
  }

  /**
   * Forces the safe variant by name; idempotent. A rollback decided on evidence needs only the same
   * rollout: whatever happened to it meanwhile (a pause, a step), harm still rolls it back.
   */
  #safe(
    action: AuditAction,
    status: 'killed' | 'rolled-back',
    reason: string,
    decidedOn: StoredRollout | undefined,
    evidence: JsonValue,
  ): Promise<RolloutOutcome> {
    return this.#change(action, reason, evidence, (flag, current) => {
      if (decidedOn !== undefined && current?.id !== decidedOn.id) this.#same(decidedOn, current);
      return toSafeVariant(flag, {
        safeVariant: this.#plan.safeVariant,
        status,
        now: this.#clock.now(),
        newId: this.#newId,
      });
    });
  }

  #status(action: AuditAction, to: 'paused' | 'running', reason: string): Promise<RolloutOutcome> {
    return this.#change(action, reason, null, (flag, current) => {
      const rollout = this.#samePlan(this.#own(current));
      let next: StoredRollout | undefined;
      try {
        next = toPausedOrRunning(rollout, to, this.#clock.now());
      } catch (error) {
        throw new RolloutConflictError((error as Error).message);
      }
      return next === undefined ? undefined : { flag, rollout: next };
    });
  }

  /**
   * Reads the flag, computes its next form (`undefined`: nothing to change), audits, and writes it
   * compare-and-swap; on a conflict, reads again and recomputes (which throws if the rollout moved).
   */
  async #change(
    action: AuditAction,
    reason: string,
    evidence: JsonValue | undefined,
    next: (
      flag: Json,
      current: StoredRollout | undefined,
      doc: Json,
    ) => { flag: Json; rollout: StoredRollout } | undefined,
  ): Promise<RolloutOutcome> {
    for (let attempt = 0; ; attempt++) {
      const { doc, flag, version } = await this.#read();
      const current = readRollout(flag);
      const change = next(flag, current, doc);
      const base = {
        actor: this.#actor,
        flag: this.#plan.flag,
        action,
        evidence: evidence ?? null,
        before: flag as JsonValue,
      };
      if (change === undefined) {
        const rollout = this.#own(current);
        await this.#audit.append({
          ...base,
          rolloutId: rollout.id,
          changed: false,
          reason: `${reason}: no change`,
          after: flag as JsonValue,
        });
        return {
          action: action as RolloutOutcome['action'],
          changed: false,
          reason: `${reason}: no change`,
          rollout,
        };
      }
      const unaudited = withRollout(change.flag, { ...change.rollout, auditHead: undefined });
      const { [`rollout.audit`]: _head, ...metadata } = (unaudited['metadata'] ?? {}) as Json;
      const after = { ...unaudited, metadata } as JsonValue;
      let head: string | undefined;
      let auditNote = '';
      try {
        head = await this.#audit.append({
          ...base,
          rolloutId: change.rollout.id,
          changed: true,
          reason,
          after,
        });
      } catch (error) {
        // the kill switch and a rollback go ahead without their record; nothing else does
        if (action !== 'kill' && action !== 'rollback') throw error;
        auditNote = ` (not audited: ${(error as Error).message})`;
      }
      const rollout = { ...change.rollout, auditHead: head };
      try {
        await this.#writer.write(
          JSON.stringify(replaceFlag(doc, this.#plan.flag, withRollout(change.flag, rollout))),
          version,
        );
        return {
          action: action as RolloutOutcome['action'],
          changed: true,
          reason: `${reason}${auditNote}`,
          rollout,
        };
      } catch (error) {
        const conflict = isWriteConflictError(error);
        if (head !== undefined)
          await this.#audit
            .append({
              ...base,
              rolloutId: change.rollout.id,
              changed: false,
              reason: `not written (${conflict ? 'the flag changed meanwhile' : (error as Error).message}): ${reason}`,
              evidence: { notWritten: head },
              after: flag as JsonValue,
            })
            .catch(() => undefined);
        if (!conflict || attempt + 1 >= this.#retries) throw error;
      }
    }
  }
}

/** `read()`, or undefined if it throws (a hand-edited record). */
function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
