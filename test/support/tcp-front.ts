import { createConnection, createServer, type Server, type Socket } from 'node:net';

type State = { kind: 'down' } | { kind: 'up'; port: number } | { kind: 'partitioned' };

/**
 * A TCP front for a server that comes and goes: clients connect to one port that the test owns for
 * its whole life, and the front relays to wherever the server listens now. So a restart never
 * re-binds a port that another process may have taken in between (EADDRINUSE on a busy machine):
 * the server starts on a fresh port and the front is re-pointed.
 *
 * - `down()`: the server is gone. Relayed connections close, new ones are reset at once, as a
 *   refused connection looks to a client.
 * - `up(port)`: relays new connections to `port`.
 * - `partition()`: a dropped route. Open connections stay open but carry nothing, new ones are
 *   accepted and never answered; `heal()` resets what was held and relays again.
 */
export class TcpFront {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  readonly #limbo = new Set<Socket>();
  #state: State = { kind: 'down' };
  #healTo: number | undefined;

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (client) => this.#accept(client));
  }

  /** A front on a free loopback port, relaying to `target` if given. */
  static async open(target?: number, host = '127.0.0.1'): Promise<TcpFront> {
    const front = new TcpFront(createServer());
    await new Promise<void>((done) => front.#server.listen(0, host, done));
    if (target !== undefined) front.up(target);
    return front;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Connections being relayed now. */
  get connections(): number {
    return this.#pairs.size;
  }

  up(port: number): void {
    this.#state = { kind: 'up', port };
  }

  down(): void {
    this.#state = { kind: 'down' };
    this.#dropAll();
  }

  partition(): void {
    if (this.#state.kind === 'up') this.#healTo = this.#state.port;
    this.#state = { kind: 'partitioned' };
  }

  /** Ends a partition: what crossed it is gone, so held connections are reset; relays again. */
  heal(): void {
    this.#dropAll();
    this.#state =
      this.#healTo === undefined ? { kind: 'down' } : { kind: 'up', port: this.#healTo };
    this.#healTo = undefined;
  }

  async close(): Promise<void> {
    this.#dropAll();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  #dropAll(): void {
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    for (const socket of this.#limbo) socket.destroy();
    this.#limbo.clear();
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    const state = this.#state;
    if (state.kind === 'down') {
      client.resetAndDestroy();
      return;
    }
    if (state.kind === 'partitioned') {
      this.#limbo.add(client); // accepted, never answered
      client.on('close', () => this.#limbo.delete(client));
      return;
    }
    const upstream = createConnection(state.port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const carrying = () => this.#state.kind !== 'partitioned';
    client.on('data', (chunk: Buffer) => carrying() && upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => carrying() && client.write(chunk));
    for (const [a, b] of [pair, [upstream, client] as const]) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        this.#pairs.delete(pair);
      });
    }
  }
}
