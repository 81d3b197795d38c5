import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import pc from 'picocolors';

/** Colour functions: each wraps text in a colour, or returns it as it is when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>;
import type { CliIo } from './io.js';

/**
 * Colours for `io`: on only for a terminal, and never when `NO_COLOR` is set (no-color.org) or
 * `FORCE_COLOR=0`.
 */
export function colorsFor(io: CliIo, env: NodeJS.ProcessEnv = process.env): Colors {
  const off = (env['NO_COLOR'] ?? '') !== '' || env['FORCE_COLOR'] === '0';
  return pc.createColors(io.tty === true && !off);
}

/**
 * A table for people: box-drawn on a terminal, plain aligned columns otherwise (so `grep` and
 * `awk` read it). Numbers are right-aligned.
 */
export function table(
  io: CliIo,
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  const plain = io.tty !== true;
  const bold = !plain && colorsFor(io, env).isColorSupported;
  const t = new Table({
    head: [...head],
    style: {
      head: bold ? ['bold'] : [],
      border: [],
      compact: plain,
      'padding-left': plain ? 0 : 1,
    },
    ...(plain
      ? {
          chars: {
            top: '',
            'top-mid': '',
            'top-left': '',
            'top-right': '',
            bottom: '',
            'bottom-mid': '',
            'bottom-left': '',
            'bottom-right': '',
            left: '',
            'left-mid': '',
            mid: '',
            'mid-mid': '',
            right: '',
            'right-mid': '',
            middle: '  ',
          },
        }
      : {}),
    colAligns: rows[0]?.map((cell) => (typeof cell === 'number' ? 'right' : 'left')) ?? [],
  });
  for (const row of rows)
    t.push(row.map((cell) => (typeof cell === 'number' ? cell.toLocaleString('en-US') : cell)));
  return t.toString().replace(/[ \t]+$/gm, '');
}

/** A progress bar, or nothing when there is no terminal to draw on. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * A progress bar on `io.progress` (the terminal's stderr) for `total` steps; a no-op off a
 * terminal, so pipes and CI logs stay clean.
 */
export function progress(io: CliIo, total: number, label: string): Progress {
  const stream = io.progress;
  if (stream === undefined || io.tty !== true)
    return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
