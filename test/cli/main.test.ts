import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../support/cli-io.js';

describe('rampflag', () => {
  it.each(['--help', '-h', 'help'])('prints its usage for %s and exits 0', async (flag) => {
    const { io, out, err } = fakeIo();
    expect(await main([flag], io)).toBe(0);
    expect(out.join()).toMatch(
      /Usage: rampflag <command>[\s\S]*Commands:[\s\S]*serve[\s\S]*rollout/,
    );
    expect(err).toEqual([]);
  });

  it('names an unknown command and exits 2', async () => {
    const { io, err } = fakeIo();
    expect(await main(['deploy'], io)).toBe(2);
    expect(err.join()).toMatch(/unknown command 'deploy'/);
  });

  it('suggests the command a typo meant', async () => {
    const { io, err } = fakeIo();
    expect(await main(['serv'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/unknown command 'serv'\n\(Did you mean serve\?\)/);
  });

  it.each(['--version', '-V'])('prints the package version for %s and exits 0', async (flag) => {
    const { io, out } = fakeIo();
    expect(await main([flag], io)).toBe(0);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(out).toEqual([version]);
  });

  it('runs a command\'s own help for "help <command>"', async () => {
    const { io, out } = fakeIo();
    expect(await main(['help', 'rollout'], io)).toBe(0);
    expect(out.join()).toMatch(/^usage: rampflag rollout/);
  });

  it('prints its usage with no command and exits 2', async () => {
    const { io, err } = fakeIo();
    expect(await main([], io)).toBe(2);
    expect(err.join()).toMatch(/Usage: rampflag/);
  });
});

describe('rampflag serve --help', () => {
  it('prints its usage and exits 0', async () => {
    const { io, out } = fakeIo();
    expect(await main(['serve', '--help'], io)).toBe(0);
    expect(out.join()).toMatch(/^usage: rampflag serve/);
  });
});
