import type { CliIo } from '../../src/cli/io.js';

/** A command's io that records what it prints, and the lines it recorded. */
export interface FakeIo {
  readonly io: CliIo;
  /** Every stdout line, in order. */
  readonly out: string[];
  /** Every stderr line, in order. */
  readonly err: string[];
  /** The stdout lines joined by newlines. */
  text(): string;
  /** Aborts `io.signal`, as Ctrl-C does. */
  stop(): void;
}

/** What a {@link fakeIo} is besides: a terminal (`tty`), a progress stream, a signal of its own. */
export interface FakeIoOptions {
  readonly tty?: boolean;
  readonly progress?: NodeJS.WritableStream;
  /** Aborts `io.signal` too (e.g. `AbortSignal.timeout(…)`). */
  readonly signal?: AbortSignal;
}

/** A fake io for `(args, io) => exitCode` commands: it records stdout and stderr line by line. */
export function fakeIo(options: FakeIoOptions = {}): FakeIo {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const { signal, ...terminal } = options;
  const io: CliIo = {
    stdout: (line) => void out.push(line),
    stderr: (line) => void err.push(line),
    signal: signal === undefined ? controller.signal : AbortSignal.any([controller.signal, signal]),
    ...terminal,
  };
  return { io, out, err, text: () => out.join('\n'), stop: () => controller.abort() };
}

/** `n` subjects as the CLI generates them (targetingKey `subject-0` … ), each with `base`'s keys. */
export const generatedSubjects = (
  n: number,
  base: Readonly<Record<string, unknown>> = {},
): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ ...base, targetingKey: `subject-${i}` }));
