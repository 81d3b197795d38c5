import { dirname, join } from 'node:path';
import type { parseArgs } from 'node:util';
import { parseDuration } from '../rollout/duration.js';
import type { CliIo } from './io.js';

/** The exit codes of `rampflag rollout`, documented in its usage. */
export const STEP_EXIT = {
  advance: 0,
  hold: 10,
  complete: 11,
  rollback: 12,
  /** `--wait`: not every sync stream was sent the change before `--timeout`. */
  notSent: 13,
  error: 1,
  usage: 2,
} as const;

/** The options of `rampflag rollout`, for `parseArgs`. */
export const OPTIONS = {
  plan: { type: 'string' },
  flags: { type: 'string' },
  admin: { type: 'string' },
  source: { type: 'string' },
  audit: { type: 'string' },
  prometheus: { type: 'string' },
  actor: { type: 'string' },
  reason: { type: 'string' },
  'safe-variant': { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  for: { type: 'string' },
  until: { type: 'string' },
  verify: { type: 'boolean' },
  runs: { type: 'string' },
  regression: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The parsed options. */
export type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

/** Bad usage: exit 2, with the usage text. Recognised by its name. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What a subcommand gets: the options, the environment, the io and how to print a result. */
export interface RolloutContext {
  /** The subcommand, for messages. */
  readonly command: string;
  readonly values: Values;
  readonly env: NodeJS.ProcessEnv;
  readonly io: CliIo;
  /** Prints `human`, or `json` as JSON with `--json`. */
  readonly print: (human: string, json: unknown) => void;
}

/** The audit log: `--audit`, else `rampflag-audit.jsonl` beside the `--flags` file (where `rampflag serve` writes), else in the working directory. */
export function auditPathOf(values: Values): string {
  if (values.audit !== undefined) return values.audit;
  return values.flags === undefined
    ? 'rampflag-audit.jsonl'
    : join(dirname(values.flags), 'rampflag-audit.jsonl');
}

/** Who acts, for the audit log: `--actor`, else `$USER@rampflag`, else undefined (the default). */
export function actorOf(values: Values, env: NodeJS.ProcessEnv): string | undefined {
  return values.actor ?? (env['USER'] ? `${env['USER']}@rampflag` : undefined);
}

/** A positive duration option (`30s`, `2h`), or a usage error naming it. */
export function durationOption(values: Values, name: 'timeout' | 'for'): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${name}: "${raw}" is not a duration such as 30s, 90m or 2h`);
  return ms;
}

/** Refuses options given where they mean nothing, naming the first. */
export function refuseOptions(values: Values, names: readonly (keyof Values)[], why: string): void {
  const given = names.find((name) => values[name] !== undefined);
  if (given !== undefined) throw new UsageError(`--${given} ${why}`);
}
