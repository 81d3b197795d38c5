/** Tiny measurement helpers: median of batches, wall-clock via hrtime. */

export interface Measure {
  /** Median nanoseconds per operation over the batches. */
  readonly nsPerOp: number;
}

const now = () => process.hrtime.bigint();

/** Runs `op(i)` in batches of `iterations`, after one warm-up batch, and returns the median. */
export function measure(op: (i: number) => unknown, iterations: number, batches = 7): Measure {
  let sink = 0;
  const run = () => {
    const start = now();
    for (let i = 0; i < iterations; i++) if (op(i) === sink) sink++;
    return Number(now() - start) / iterations;
  };
  run();
  const samples = Array.from({ length: batches }, run).sort((a, b) => a - b);
  if (sink === -1) console.log(sink); // keeps the results observable
  return { nsPerOp: samples[Math.floor(samples.length / 2)] as number };
}

/** Median milliseconds of `repeat` runs of `op`, each with fresh state from `setup`. */
export function time<S>(setup: () => S, op: (state: S) => unknown, repeat: number): number {
  const samples: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const state = setup();
    const start = now();
    op(state);
    samples.push(Number(now() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

/** Like {@link measure} for an async operation, awaited one call at a time. */
export async function measureAsync(
  op: (i: number) => Promise<unknown>,
  iterations: number,
  batches = 7,
): Promise<Measure> {
  const run = async () => {
    const start = now();
    for (let i = 0; i < iterations; i++) await op(i);
    return Number(now() - start) / iterations;
  };
  await run();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) samples.push(await run());
  samples.sort((a, b) => a - b);
  return { nsPerOp: samples[Math.floor(samples.length / 2)] as number };
}
