import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpBinding } from '@toolbus/contracts';
import { createUpstreamTransport, type StdioServers } from '@toolbus/mcp-upstream';
import type { Logger } from '@toolbus/observability';
import { secretForms, type CredentialOrigins, type SecretStore } from '@toolbus/security';

export interface McpClientPoolOptions {
  /** Reads bearer tokens: key `token` of a binding's `credentialsSecret`. */
  secrets: Pick<SecretStore, 'read'>;
  logger: Logger;
  /** Bound on spawning or reaching an upstream plus the MCP initialize handshake. */
  connectTimeoutMs: number;
  /** The stdio servers the bridge may start, by entry name; empty refuses every stdio upstream. */
  stdioServers: StdioServers;
  /** The guarded fetch (libs/egress) every Streamable HTTP request goes through. */
  fetch: FetchLike;
  /** Which origins each bearer secret may be sent to (CREDENTIAL_ORIGINS). */
  credentialOrigins: CredentialOrigins;
  /**
   * The largest result a call may return; an HTTP answer is cut off at this plus
   * {@link FRAMING_BYTES}, so the executor's exact check on the result decides below that.
   */
  maxResponseBytes: number;
  /**
   * Where PATH and HOME of stdio children come from; default this process's environment.
   * Nothing else of it is passed on (see `stdioChildEnv` in @toolbus/mcp-upstream).
   */
  parentEnv?: NodeJS.ProcessEnv;
}

/** A connected MCP client of one upstream, shared by every call to it. */
export interface PooledClient {
  readonly key: string;
  readonly server: string;
  readonly client: Client;
  /**
   * Credentials sent to the upstream, in every form they may be echoed back in, so outputs and
   * error texts can be scrubbed of them.
   */
  readonly sentSecrets: readonly string[];
}

/** The pool is shut down; no new connections. */
export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
}

const CLIENT_INFO = { name: 'toolbus-mcp-bridge', version: '0.1.0' };

/** Room for the JSON-RPC envelope and event-stream framing around a result of the largest size. */
export const FRAMING_BYTES = 64 * 1024;

/** JSON with sorted keys, so equal bindings hash equally whatever order their fields came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

interface Entry {
  ready: Promise<PooledClient>;
  pooled?: PooledClient;
}

/**
 * One MCP client per upstream, shared by all calls: keyed by the server name and a hash of its
 * transport and credentials reference, so tools of one server share a session while a changed
 * URL, command or secret gets a client of its own. Clients connect on first use; one that
 * closes (a stdio child that exited, a session the server dropped) or that the executor
 * reports broken is forgotten, and the next call connects again (a stdio child is started
 * again). The bearer token is read from the secret at each connect, so a rotated secret is
 * used from the next connection on.
 */
export class McpClientPool {
  private readonly entries = new Map<string, Entry>();
  private readonly live = new Set<PooledClient>();
  private closed = false;

  constructor(private readonly options: McpClientPoolOptions) {}

  /** `<server>#<first 16 hex of sha256(transport, credentialsSecret)>`. */
  static keyOf(binding: McpBinding): string {
    const hash = createHash('sha256')
      .update(
        canonical({ transport: binding.transport, credentialsSecret: binding.credentialsSecret }),
      )
      .digest('hex')
      .slice(0, 16);
    return `${binding.server}#${hash}`;
  }

  /** Number of upstream clients connected or connecting. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The client of the binding's upstream, connecting it first if needed. Concurrent callers
   * share one connection attempt; `signal` only stops this caller's wait.
   */
  async acquire(binding: McpBinding, signal?: AbortSignal): Promise<PooledClient> {
    if (this.closed) throw new PoolClosedError('the MCP client pool is closed');
    const key = McpClientPool.keyOf(binding);
    let entry = this.entries.get(key);
    if (!entry) {
      const created = {} as Entry;
      created.ready = this.connect(key, binding, created).catch((error: unknown) => {
        if (this.entries.get(key) === created) this.entries.delete(key);
        throw error;
      });
      // Awaited by the callers below; marked handled so a failure with no caller left is not
      // reported as unhandled.
      created.ready.catch(() => undefined);
      this.entries.set(key, created);
      entry = created;
    }
    if (!signal) return entry.ready;
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        entry.ready,
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Forgets a client that failed at the transport level and closes it; the next call connects
   * again. A client already replaced is only closed.
   */
  async invalidate(pooled: PooledClient): Promise<void> {
    const entry = this.entries.get(pooled.key);
    if (entry?.pooled === pooled) this.entries.delete(pooled.key);
    await this.dispose(pooled);
  }

  /** Closes every client (stdio children get stdin closed, then signals); no new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(pending.map((e) => e.ready.then((p) => this.dispose(p)).catch(() => {})));
    await Promise.all([...this.live].map((p) => this.dispose(p)));
  }

  private async dispose(pooled: PooledClient): Promise<void> {
    this.live.delete(pooled);
    await pooled.client.close().catch(() => undefined);
  }

  private async connect(key: string, binding: McpBinding, entry: Entry): Promise<PooledClient> {
    const logger = this.options.logger.child({ upstream: binding.server, key });
    const { transport, sentSecrets } = await this.transportFor(binding, logger);
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const pooled: PooledClient = {
      key,
      server: binding.server,
      client,
      sentSecrets: sentSecrets.flatMap(secretForms),
    };
    client.onclose = () => {
      this.live.delete(pooled);
      if (this.entries.get(key)?.pooled === pooled) {
        this.entries.delete(key);
        logger.warn('upstream MCP connection closed; the next call reconnects');
      }
    };
    client.onerror = (error) => {
      logger.debug({ err: error }, 'upstream MCP transport error');
    };
    try {
      await client.connect(transport, { timeout: this.options.connectTimeoutMs });
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    if (this.closed || this.entries.get(key) !== entry) {
      // Shut down, or forgotten while connecting: nobody may use this client.
      await client.close().catch(() => undefined);
      throw new PoolClosedError('the MCP client pool is closed');
    }
    entry.pooled = pooled;
    this.live.add(pooled);
    logger.info({ transport: binding.transport.kind }, 'upstream MCP client connected');
    return pooled;
  }

  private transportFor(
    binding: McpBinding,
    logger: Logger,
  ): Promise<{ transport: Transport; sentSecrets: string[] }> {
    // Only the referenced secret's header is added: nothing of the caller goes upstream.
    return createUpstreamTransport(binding.server, binding.transport, binding.credentialsSecret, {
      secrets: this.options.secrets,
      logger,
      stdioServers: this.options.stdioServers,
      fetch: this.options.fetch,
      credentialOrigins: this.options.credentialOrigins,
      maxResponseBytes: this.options.maxResponseBytes + FRAMING_BYTES,
      parentEnv: this.options.parentEnv,
    });
  }
}
