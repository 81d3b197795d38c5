import type { EvaluationContext } from '@openfeature/core';
import type { ConfigurationInput } from '../evaluator/index.js';
import type { FlagSourceSink } from './flag-source.js';

/**
 * How a source talks to its sink from an event handler (a stream's `data`, a watcher, a timer),
 * where nothing may be thrown: an exception there is uncaught and ends the process. Whatever goes
 * wrong comes back as a value or is reported, and the last good flags stay in service. @internal
 */

/** `error` as an `Error`, whatever was thrown. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Hands one configuration to `sink`. Never throws: what the sink throws (an
 * `InvalidConfigurationError`, or anything unexpected) is returned; `undefined` means it took.
 */
export function deliver(
  sink: FlagSourceSink,
  payload: ConfigurationInput,
  syncContext?: EvaluationContext,
): Error | undefined {
  try {
    sink.configuration(payload, syncContext);
    return undefined;
  } catch (error) {
    return asError(error);
  }
}

/** Reports `error` to `sink`, if any. Never throws: a sink that throws while reporting is ignored. */
export function report(sink: FlagSourceSink | undefined, error: Error): void {
  try {
    sink?.error(error);
  } catch {
    // nothing left to tell: the sink is the only place errors go
  }
}

/** Tells `sink`, if any, that the source lost its connection. Never throws. */
export function reportStale(sink: FlagSourceSink | undefined): void {
  try {
    sink?.stale();
  } catch {
    // as in report()
  }
}
