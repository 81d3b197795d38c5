// Preloaded into a `rampflag serve` child by bench/measured-serve.ts (plain JS, so the built
// server runs without tsx): appends one JSON line of process.memoryUsage() to
// $RAMPFLAG_BENCH_MEMORY_FILE every $RAMPFLAG_BENCH_MEMORY_MS, and on SIGUSR2 one more right
// after a full garbage collection (`"gc": true`), for a live-heap reading.
import { appendFileSync } from 'node:fs';
import process from 'node:process';
import { setInterval } from 'node:timers';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const file = process.env.RAMPFLAG_BENCH_MEMORY_FILE;
if (file) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const sample = (collected) => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const line = { t: Date.now(), rss, heapUsed, heapTotal, external, gc: collected };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  setInterval(() => sample(false), Number(process.env.RAMPFLAG_BENCH_MEMORY_MS ?? 250)).unref();
  process.on('SIGUSR2', () => {
    gc();
    sample(true);
  });
}
