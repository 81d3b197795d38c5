import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** An SSE sync server on loopback, restartable on the same port. */
export class TestSseServer {
  flags: string;
  syncContext: Record<string, unknown> | undefined;
  /** When set, requests get this HTTP status instead of a stream. */
  status: number | undefined;
  readonly requests: IncomingHttpHeaders[] = [];
  port = 0;
  #version = 0;
  #server: Server | undefined;
  readonly #streams = new Set<ServerResponse>();
  readonly #sockets = new Set<Socket>();

  constructor(flags: object, syncContext?: Record<string, unknown>) {
    this.flags = JSON.stringify(flags);
    this.syncContext = syncContext;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/sync`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.requests.push(req.headers);
      if (this.status !== undefined) {
        res.writeHead(this.status).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      this.#streams.add(res);
      res.on('close', () => this.#streams.delete(res));
      this.#send(res);
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  push(flags: object | string): void {
    this.flags = typeof flags === 'string' ? flags : JSON.stringify(flags);
    this.#version++;
    for (const res of this.#streams) this.#send(res);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
    this.#server = undefined;
  }

  #send(res: ServerResponse): void {
    const data = JSON.stringify({
      flagConfiguration: this.flags,
      ...(this.syncContext ? { syncContext: this.syncContext } : {}),
    });
    res.write(`id: ${this.#version}\nevent: configuration\ndata: ${data}\n\n`);
  }
}
