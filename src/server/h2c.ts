import type { Server as HttpServer } from 'node:http';
import {
  createServer as createHttp2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';

/** What every HTTP/2 client connection starts with (RFC 9113 §3.4); `PRI ` is enough to tell. */
const PREFACE = Buffer.from('PRI ');

/** Bounds on the HTTP/2 side of a listener. @internal */
export interface Http2Limits {
  /** Time to send the first bytes (HTTP/1 or the HTTP/2 preface). */
  readonly headersTimeoutMs: number;
  /** How long a session with no open stream stays open. */
  readonly idleTimeoutMs: number;
  /** Concurrent streams per session. */
  readonly maxConcurrentStreams: number;
}

/** The HTTP/2 side of a listener: its open sessions, to close when the server stops. @internal */
export interface Http2Side {
  /**
   * Closes every session (GOAWAY), destroying those still open after `graceMs`, and every
   * connection that has not sent its first bytes yet; from then on, a new connection is closed at
   * once.
   */
  closeAll(graceMs: number): void;
}

type StreamHandler = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

/** Closes a session once it has had no stream for `idleMs`. */
function idleClose(session: ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  arm();
  session.on('stream', (stream: ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      if (--open === 0 && !session.closed) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
}

/**
 * Serves HTTP/2 next to HTTP/1.1 on one listener, as flagd's evaluation port does: a cleartext
 * connection starting with the HTTP/2 preface (h2c, prior knowledge, as gRPC clients connect) and a
 * TLS connection that negotiated `h2` by ALPN go to `onStream`; everything else stays with the
 * HTTP/1.1 server, with its own timeouts. The listener's connection cap counts both.
 * Give an HTTPS server `ALPNProtocols: ['h2', 'http/1.1']`.
 * @internal
 */
export function serveHttp2(
  server: HttpServer,
  tls: boolean,
  onStream: StreamHandler,
  limits: Http2Limits,
): Http2Side {
  const h2 = createHttp2Server({
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: 16 * 1024 },
    maxSessionMemory: 16,
  });
  const sessions = new Set<ServerHttp2Session>();
  const sniffing = new Set<Socket>(); // connections that have not said which protocol yet
  h2.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => {}); // a broken connection concerns that session alone
    idleClose(session, limits.idleTimeoutMs);
  });
  h2.on('stream', onStream);
  const event = tls ? 'secureConnection' : 'connection';
  const http1 = server.listeners(event) as ((socket: Socket) => void)[];
  server.removeAllListeners(event);
  const toHttp1 = (socket: Socket) => {
    for (const listener of http1) listener.call(server, socket);
  };
  const toHttp2 = (socket: Socket) => {
    // An HTTP/1.1 server accepts sockets half-open (`allowHalfOpen`): a client's FIN would leave
    // the session waiting for ever, its streams counted and its connection held. HTTP/2 has no
    // half-open connection: the client's end ends the session.
    socket.allowHalfOpen = false;
    h2.emit('connection', socket);
  };
  let closing = false;
  server.on(event, (socket: Socket & { alpnProtocol?: string | false }) => {
    if (closing) {
      // accepted as the server stops (a client reconnecting at once): it would wait out the
      // headers timeout in the sniffer, holding the listener's close
      socket.destroy();
      return;
    }
    if (tls) {
      if (socket.alpnProtocol === 'h2') toHttp2(socket);
      else toHttp1(socket);
      return;
    }
    sniffing.add(socket);
    socket.once('close', () => sniffing.delete(socket));
    sniff(socket, limits.headersTimeoutMs, (http2) => {
      sniffing.delete(socket);
      if (http2) toHttp2(socket);
      else {
        toHttp1(socket);
        socket.resume(); // the HTTP/1.1 parser reads the bytes put back, then the rest
      }
    });
  });
  return {
    closeAll(graceMs) {
      closing = true;
      for (const socket of sniffing) socket.destroy();
      for (const session of sessions) {
        session.close();
        setTimeout(() => session.destroy(), graceMs).unref();
      }
    },
  };
}

/** Reads a connection's first bytes, puts them back, and says whether they are HTTP/2's preface. */
function sniff(socket: Socket, timeoutMs: number, decide: (http2: boolean) => void): void {
  let head = Buffer.alloc(0);
  socket.setTimeout(timeoutMs, () => socket.destroy());
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.length < PREFACE.length && PREFACE.subarray(0, head.length).equals(head)) return;
    socket.off('data', onData);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(head);
    decide(head.subarray(0, PREFACE.length).equals(PREFACE));
  };
  socket.on('data', onData);
}
