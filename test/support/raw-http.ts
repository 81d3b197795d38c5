import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A response read whole: status, headers and body text. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * An HTTP request with full control of its headers (`Host` included, which fetch sets itself), and
 * optionally a body sent in slices with a pause before the last, as a slow client sends it.
 */
export function rawRequest(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    /** Resolved before the last slice of the body is sent. */
    beforeLastSlice?: Promise<unknown>;
    host?: string;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    const body = options.body ?? '';
    if (options.beforeLastSlice === undefined) return void req.end(body);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    void options.beforeLastSlice.then(() => req.end(body.slice(half)));
  });
}

/** Opens a TCP connection; resolves with the socket and a promise of its close (what it is sent is discarded). */
export function openSocket(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      resolve({ socket, closed: new Promise((done) => socket.once('close', () => done())) }),
    );
    socket.on('error', reject);
    socket.resume(); // a paused socket would never see the server's end
  });
}
