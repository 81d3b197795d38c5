import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const FILE_SOURCE = resolve('src/sources/file.ts');

// A second process with its own FileFlagSource on the same file: `read` reads it, `write` writes
// the next version with the text it read as `expected`, and it answers `won`, `conflict` or `error`.
const RACER = `
import { createInterface } from 'node:readline';
import { FileFlagSource } from ${JSON.stringify(FILE_SOURCE)};
const source = new FileFlagSource(process.argv[2]);
const next = (text) => {
  const config = JSON.parse(text);
  config.flags.n.variants.v += 1;
  config.flags.n.metadata = { writer: process.pid };
  return JSON.stringify(config);
};
let text = '';
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'read') {
    text = await source.read();
    console.log('ready');
  } else if (line === 'write') {
    try {
      await source.write(next(text), { expected: text });
      console.log('won');
    } catch (error) {
      console.log(error.name === 'WriteConflictError' ? 'conflict' : 'error ' + error.message);
    }
  }
}
`;

/** A racer child: send it a command, await its answer. */
function racer(script: string, file: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, file], {
    cwd: resolve('.'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const answers: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const resolveNext = waiting.shift();
    if (resolveNext) resolveNext(line);
    else answers.push(line);
  });
  return {
    child,
    ask(command: string): Promise<string> {
      child.stdin!.write(command + '\n');
      const ready = answers.shift();
      return ready !== undefined ? Promise.resolve(ready) : new Promise((r) => waiting.push(r));
    },
  };
}

let dir: string;
let children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rampflag-cas-'));
});
afterEach(() => {
  for (const child of children) child.kill();
  children = [];
  rmSync(dir, { recursive: true, force: true });
});

const initial = JSON.stringify(
  { flags: { n: { state: 'ENABLED', variants: { v: 0 }, defaultVariant: 'v' } } },
  null,
  2,
);

describe('FileFlagSource compare-and-swap across processes', () => {
  it('lets exactly one of two processes win a write from the same read, every round', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, initial);
    const script = join(dir, 'racer.mjs');
    writeFileSync(script, RACER);
    const racers = [racer(script, file), racer(script, file)];
    children = racers.map((r) => r.child);
    const rounds = 20;
    const outcomes: string[][] = [];
    for (let round = 0; round < rounds; round++) {
      expect(await Promise.all(racers.map((r) => r.ask('read')))).toEqual(['ready', 'ready']);
      outcomes.push((await Promise.all(racers.map((r) => r.ask('write')))).sort());
    }
    expect(outcomes).toEqual(Array.from({ length: rounds }, () => ['conflict', 'won']));
    const config = JSON.parse(readFileSync(file, 'utf8')) as {
      flags: { n: { variants: { v: number } } };
    };
    expect(config.flags.n.variants.v).toBe(rounds); // no write was lost
    expect(readdirSync(dir).sort()).toEqual(['flags.json', 'racer.mjs']); // no lock, no temporary
  }, 60_000);
});
