import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, FAILURE_EXITS, runCommand } from './command.js';
import type { CliIo } from './io.js';
import { progress } from './output.js';
import { pendingLine, printVerify, verifyJson, type VerifyReport } from './verify-output.js';
import {
  verifyCommand,
  verifyOptions,
  type RawVerifyOptions,
  type VerifyOptions,
} from './verify-options.js';
import { checkReplicas } from './verify-round.js';
import { checkExpectations, summarize, verdictOf } from './verify-summary.js';

/** `rampflag verify`'s exit codes by verdict. */
export const VERIFY_EXIT = { consistent: 0, inconsistent: 1, unmet: 1, unreachable: 3 } as const;

/** One check of every subject on every replica, summarised and judged. */
async function check(
  options: VerifyOptions,
  io: CliIo,
  checks: number,
  started: number,
): Promise<VerifyReport> {
  const total = options.subjects.length * options.replicas.length;
  const bar = progress(io, total, `check ${checks}`);
  let done = 0;
  const rounds = await checkReplicas(options.replicas, options.flag, options.subjects, {
    concurrency: options.concurrency,
    timeoutMs: options.requestTimeoutMs,
    signal: io.signal,
    onAnswer: () => bar.update(++done),
  }).finally(() => bar.stop());
  const summary = summarize(rounds, options.subjects.length, options.show);
  const expectations = checkExpectations(summary, options.expectations, options.tolerance);
  return {
    flag: options.flag,
    subjects: options.subjects,
    summary,
    expectations,
    verdict: verdictOf(summary, expectations),
    checks,
    elapsedMs: Date.now() - started,
    polled: options.poll,
  };
}

/**
 * Checks, and with `--until-consistent` or `--expect` checks again every interval until the
 * verdict is `consistent` or the timeout would pass before the next check. Resolves with the last
 * check's report; undefined when the signal stopped it.
 */
async function checkUntilConsistent(
  options: VerifyOptions,
  io: CliIo,
): Promise<VerifyReport | undefined> {
  const started = Date.now();
  for (let checks = 1; ; checks++) {
    const report = await check(options, io, checks, started);
    if (io.signal.aborted) return undefined;
    const next = Date.now() + options.intervalMs;
    if (report.verdict === 'consistent' || !options.poll || next > started + options.timeoutMs)
      return report;
    io.stderr(`rampflag verify: ${pendingLine(report, options.intervalMs)}`);
    try {
      await sleep(options.intervalMs, undefined, { signal: io.signal });
    } catch {
      return undefined; // aborted
    }
  }
}

/**
 * `rampflag verify <flag> --replicas <file>`: evaluates the same subjects on every replica (the
 * evaluation API or OFREP) and reports each replica's share per variant and every subject that
 * resolves differently between replicas. Exit 0 consistent, 1 inconsistent or an expectation not
 * met, 2 bad usage, 3 a replica unreachable.
 */
export function verify(args: readonly string[], io: CliIo): Promise<number> {
  return runCommand(verifyCommand(), args, io, FAILURE_EXITS, async (parsed) => {
    const options = await verifyOptions(
      parsed.processedArgs[0] as string,
      parsed.opts<RawVerifyOptions>(),
    ).catch((error: unknown) => {
      if (!(error instanceof RangeError)) throw error;
      throw new CliError(error.message, 'usage', { cause: error });
    });
    const report = await checkUntilConsistent(options, io);
    if (report === undefined) throw new CliError('interrupted', 'stopped');
    if (options.json) io.stdout(JSON.stringify(verifyJson(report), null, 2));
    else printVerify(io, report);
    return VERIFY_EXIT[report.verdict];
  });
}
