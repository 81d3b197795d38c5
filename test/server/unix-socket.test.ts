import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../support/scratch.js';
import { serverOnFreePorts, shopFlags } from '../support/test-server.js';

const dir = scratchDir('socket');
const stops: (() => unknown)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** POSTs a Connect JSON call over the unix socket. */
const resolveOver = (socketPath: string, flagKey: string, context: object) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: '/flagd.evaluation.v1.Service/ResolveBoolean',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ flagKey, context }));
  });

async function start(socketPath: string) {
  const server = serverOnFreePorts({ source: shopFlags(), socketPath });
  await server.start();
  stops.push(() => server.stop());
  return server;
}

describe('FlagServer socketPath (flagd --socket-path)', () => {
  it('serves the evaluation API on the socket, and removes the socket when it stops', async () => {
    const path = join(dir.dir, 'eval.sock');
    const server = await start(path);
    expect(await resolveOver(path, 'checkout', { ring: 'internal' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    await server.stop();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a socket file a killed server left behind', async () => {
    const path = join(dir.dir, 'stale.sock');
    // a process that binds the socket and dies without removing it
    const killed = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(path)).toBe(true);
    await start(path);
    expect(await resolveOver(path, 'checkout', {})).toMatchObject({ value: false });
  });

  it('refuses a socket a live server holds, and a path that is not a socket', async () => {
    const path = join(dir.dir, 'live.sock');
    const holder: Server = createServer();
    await new Promise<void>((done) => holder.listen(path, done));
    stops.push(() => new Promise((done) => holder.close(done)));
    await expect(start(path)).rejects.toThrow(`socket ${path} is in use (evaluation)`);
    const file = join(dir.dir, 'plain-file');
    writeFileSync(file, 'not a socket');
    await expect(start(file)).rejects.toThrow(
      `cannot listen on socket ${file}: a file that is not a socket is there`,
    );
  });
});
