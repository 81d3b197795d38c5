import { createServer } from 'node:net';

/** A loopback port nothing listens on (bound, then released): for a program that cannot bind port 0 and say which it got. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
