#!/usr/bin/env node
/** The `rampflag` binary: the only place that reads argv, prints, and sets the exit code. */
import { main } from './main.js';

// `rampflag … | head` closes the pipe early: that ends the output, it is not a crash
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
const code = await main(process.argv.slice(2), {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  signal: controller.signal,
  tty: process.stdout.isTTY === true,
  ...(process.stderr.isTTY ? { progress: process.stderr } : {}),
});
process.exitCode = code;
