import { parseArgs } from 'node:util';
import { FileFlagSource } from '../sources/file.js';
import { FlagServer } from '../server/flag-server.js';
import type { CliIo } from './io.js';

const USAGE = `usage: rampflag serve <flags.json|flags.yaml> [--host 127.0.0.1] [--sync-port 8015] [--http-port 8013]
Serves the flag file, watched, over flagd's sync protocol (gRPC), SSE and flagd's evaluation API.`;

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new RangeError(`--${name}: "${value}" is not a port`);
  return n;
}

/**
 * `rampflag serve <file>`: serves a flag file until the signal aborts, then ends every stream (so
 * clients go STALE at once and reconnect) and returns 0. A bad argument or file returns 2 or 1.
 */
export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  let options: { file: string; host: string; syncPort: number; httpPort: number };
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        'sync-port': { type: 'string' },
        'http-port': { type: 'string' },
      },
    });
    if (positionals.length !== 1) throw new RangeError('name one flag file');
    options = {
      file: positionals[0] as string,
      host: values.host ?? '127.0.0.1',
      syncPort: port(values['sync-port'], 8015, 'sync-port'),
      httpPort: port(values['http-port'], 8013, 'http-port'),
    };
  } catch (error) {
    io.stderr(`rampflag serve: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const logger = { error: io.stderr, warn: io.stderr, info: io.stdout, debug: () => undefined };
  const server = new FlagServer({
    source: new FileFlagSource(options.file),
    host: options.host,
    syncPort: options.syncPort,
    httpPort: options.httpPort,
    logger,
  });
  try {
    const { syncPort, httpPort } = await server.start();
    io.stdout(
      `rampflag serving ${options.file}: sync (gRPC) ${options.host}:${syncPort}, evaluation API and SSE http://${options.host}:${httpPort}`,
    );
  } catch (error) {
    io.stderr(`rampflag serve: ${(error as Error).message}`);
    await server.stop().catch(() => undefined);
    return 1;
  }
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.stop();
  io.stdout('rampflag stopped: streams closed');
  return 0;
}
