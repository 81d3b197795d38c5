import { lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * Removes a unix socket file no server holds any more (one a crashed server left behind), so a
 * restarted server can listen there again. A socket a live server answers on is left alone (the
 * listen then fails, saying the socket is in use); anything else there is an error, never removed.
 * @internal
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket)
    throw new Error(`cannot listen on socket ${path}: a file that is not a socket is there`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (!live) unlinkSync(path);
}
