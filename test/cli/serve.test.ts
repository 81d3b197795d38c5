import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../support/cli-io.js';
import { servePortArgs } from '../support/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-cli-'));
const file = join(dir, 'flags.json');
copyFileSync('examples/flags.json', file);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rampflag serve', () => {
  it('serves a flag file on flagd protocols until stopped, then closes its streams', async () => {
    const { io, out, stop } = fakeIo();
    const running = main(['serve', file, ...servePortArgs()], io);
    while (out.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const url = /http:\/\/([\d.:]+)/.exec(out[0] ?? '')?.[0];
    const res = await fetch(`${url}/flagd.evaluation.v1.Service/ResolveBoolean`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        flagKey: 'new-checkout',
        context: { targetingKey: 'emp-42', ring: 'internal' },
      }),
    });
    expect(await res.json()).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    stop();
    expect(await running).toBe(0);
    expect(out.at(-1)).toBe('rampflag stopped: streams closed');
  });

  it('merges several files and takes admin updates into the file that holds the flag', async () => {
    const overlay = join(dir, 'overlay.json');
    writeFileSync(
      overlay,
      JSON.stringify({
        flags: {
          banner: { state: 'ENABLED', variants: { a: 'hi', b: 'hej' }, defaultVariant: 'a' },
        },
      }),
    );
    const { io, out, stop } = fakeIo();
    const running = main(['serve', file, overlay, '-X', 'region=eu', ...servePortArgs()], io);
    while (out.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const management = /management (http:\/\/[\d.:]+)/.exec(out[0] ?? '')?.[1];
    const ofrep = /OFREP (http:\/\/[\d.:]+)/.exec(out[0] ?? '')?.[1];
    const patched = await fetch(`${management}/admin/flags?source=${encodeURIComponent(overlay)}`, {
      method: 'PATCH',
      body: JSON.stringify({ flags: { banner: { defaultVariant: 'b' } } }),
    });
    expect(patched.status).toBe(200);
    expect(JSON.parse(readFileSync(overlay, 'utf8')).flags.banner.defaultVariant).toBe('b');
    const evaluated = await fetch(`${ofrep}/ofrep/v1/evaluate/flags`, { method: 'POST' });
    const keys = ((await evaluated.json()) as { flags: { key: string; value: unknown }[] }).flags;
    expect(keys.find((f) => f.key === 'banner')?.value).toBe('hej');
    expect(keys.some((f) => f.key === 'new-checkout')).toBe(true);
    stop();
    expect(await running).toBe(0);
  });

  it.each([
    [['serve'], 2, /name one flag file or more/],
    [['serve', file, '--sync-port', 'eighty'], 2, /--sync-port: "eighty" is not a port/],
    [['serve', join(dir, 'missing.json')], 1, /cannot read flag file .*missing\.json/],
    [['deploy'], 2, /unknown command 'deploy'\n\(rampflag --help lists the commands\)/],
  ])('rampflag %j exits %d, saying why', async (argv, code, message) => {
    const { io, err } = fakeIo();
    expect(await main(argv, io)).toBe(code);
    expect(err.join('\n')).toMatch(message);
  });

  it.each([['--sync-port'], ['--http-port'], ['--management-port'], ['--ofrep-port']])(
    'names the port and %s when that port is taken',
    async (option) => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const taken = String((holder.address() as { port: number }).port);
      try {
        const { io, err } = fakeIo();
        const ports = ['--sync-port', '--http-port', '--management-port', '--ofrep-port'].flatMap(
          (o) => [o, o === option ? taken : '0'],
        );
        expect(await main(['serve', file, ...ports], io)).toBe(1);
        expect(err.join('\n')).toBe(
          `rampflag serve: port ${taken} is in use (${option}): another process holds it; pick another with ${option}, or 0 for a free one`,
        );
      } finally {
        holder.close();
      }
    },
  );
});
