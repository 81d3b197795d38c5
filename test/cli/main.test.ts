import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

function fakeIo() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void err.push(s),
      signal: new AbortController().signal,
    },
    out,
    err,
  };
}

describe('rampflag', () => {
  it.each(['--help', '-h', 'help'])('prints its usage for %s and exits 0', async (flag) => {
    const { io, out, err } = fakeIo();
    expect(await main([flag], io)).toBe(0);
    expect(out.join()).toMatch(/usage: rampflag <command>[\s\S]*commands: serve/);
    expect(err).toEqual([]);
  });

  it('names an unknown command and exits 2', async () => {
    const { io, err } = fakeIo();
    expect(await main(['deploy'], io)).toBe(2);
    expect(err.join()).toMatch(/unknown command "deploy"/);
  });

  it('prints its usage with no command and exits 2', async () => {
    const { io, err } = fakeIo();
    expect(await main([], io)).toBe(2);
    expect(err.join()).toMatch(/usage: rampflag/);
  });
});

describe('rampflag serve --help', () => {
  it('prints its usage and exits 0', async () => {
    const out: string[] = [];
    const io = {
      stdout: (s: string) => void out.push(s),
      stderr: () => undefined,
      signal: new AbortController().signal,
    };
    expect(await main(['serve', '--help'], io)).toBe(0);
    expect(out.join()).toMatch(/^usage: rampflag serve/);
  });
});
