/** What a command may touch: its output streams and a signal that asks it to stop. */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM by the binary, or by a test. */
  readonly signal: AbortSignal;
  /** Whether stdout is a terminal: progress is then redrawn in place instead of appended. */
  readonly tty?: boolean;
  /** Where a progress bar is drawn (the terminal's stderr); none: no progress bar. */
  readonly progress?: NodeJS.WritableStream;
}
