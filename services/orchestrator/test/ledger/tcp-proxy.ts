import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that can take it away: `down()` cuts every open
 * connection and hangs up on new ones (counting them, so a test knows the ledger kept
 * trying), `up()` lets them through again. To the ledger's pool this is the database going
 * away and coming back, as a failover or a restart looks, without stopping the PostgreSQL
 * every test shares.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private available = true;
  /** Connections refused while down. */
  refused = 0;

  private readonly server: Server;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client, target));
  }

  /** The port the proxy listens on (127.0.0.1). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (!this.available) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  down(): void {
    this.available = false;
    this.refused = 0;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.available = true;
  }

  async close(): Promise<void> {
    this.down();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
