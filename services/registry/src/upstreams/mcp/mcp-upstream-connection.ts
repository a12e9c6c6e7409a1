import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpUpstreamRequest } from '@toolbus/contracts';
import { egressRefusalOf } from '@toolbus/egress';
import { createUpstreamTransport, type StdioServers } from '@toolbus/mcp-upstream';
import type { Logger } from '@toolbus/observability';
import type { CredentialOrigins, SecretStore } from '@toolbus/security';
import { z } from 'zod';
import { UpstreamTool } from './mcp-tool-mapping.js';

/** What a connection needs from the registry: secrets by reference, and a logger. */
export interface McpUpstreamDeps {
  /** Reads the bearer token: key `token` of the upstream's `credentialsSecret`. */
  secrets: Pick<SecretStore, 'read'>;
  logger: Logger;
  /**
   * Where PATH and HOME of a stdio child come from; default this process's environment.
   * Nothing else of it is passed on (see `stdioChildEnv` in @toolbus/mcp-upstream).
   */
  parentEnv?: NodeJS.ProcessEnv;
  /**
   * The stdio servers the registry may start, by entry name (MCP_STDIO_SERVERS; empty refuses
   * every stdio upstream). Registering a stdio upstream makes the registry start it at every
   * sync, so a registration names an entry and never a command line.
   */
  stdioServers: StdioServers;
  /** The guarded fetch of libs/egress (EGRESS_ALLOW): upstream URLs cannot reach the inside. */
  fetch: FetchLike;
  /** Which origins each bearer secret may be sent to (CREDENTIAL_ORIGINS). */
  credentialOrigins: CredentialOrigins;
}

/** Largest answer of an upstream the registry reads (a page of tools/list with its schemas). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The upstream could not be reached or answered something unusable; says which upstream. */
export class McpUpstreamError extends Error {
  override readonly name = 'McpUpstreamError';
}

/** A page of tools/list, parsed leniently: tools are checked one by one afterwards. */
const ToolsPage = z
  .object({ tools: z.array(z.unknown()), nextCursor: z.string().optional() })
  .loose();

/** A listing of more pages than this is treated as a server bug (a cursor loop). */
const MAX_PAGES = 1000;

const CLIENT_INFO = { name: 'toolbus-registry', version: '0.1.0' };

function describe(error: unknown): string {
  // fetch reports a refused connection as "fetch failed"; the refusal says why.
  const refused = egressRefusalOf(error);
  let message = refused ? refused.message : error instanceof Error ? error.message : String(error);
  // The SDK's HTTP errors keep the status apart from the message; it is the useful part.
  if (error instanceof StreamableHTTPError && error.code !== undefined)
    message = `HTTP ${error.code}: ${message}`;
  return message.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * A connection of the registry to one upstream MCP server (Streamable HTTP, or a stdio command
 * it starts), used to list the server's tools and hear when they change. Every request is
 * bounded by the upstream's `timeoutMs`. The registry never calls the tools: the MCP bridge
 * does.
 */
export class McpUpstreamConnection {
  private readonly changeListeners = new Set<() => void>();
  private readonly closeListeners = new Set<() => void>();
  private closing = false;
  private isClosed = false;

  private constructor(
    readonly upstream: McpUpstreamRequest,
    private readonly client: Client,
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {}

  /**
   * Connects and initializes the MCP session. Rejects with an {@link McpUpstreamError} naming
   * the upstream when the server cannot be reached (an internal address EGRESS_ALLOW does not
   * list included), refuses the credentials, or does not answer within `timeoutMs`; a missing
   * secret rejects with the SecretStore's error, a stdio entry that is not declared with
   * `StdioServerNotAllowedError`, a secret that may not go to the URL with
   * `CredentialOriginError` (both of libs/mcp-upstream), before anything is started or sent.
   */
  static async connect(
    upstream: McpUpstreamRequest,
    deps: McpUpstreamDeps,
  ): Promise<McpUpstreamConnection> {
    const logger = deps.logger.child({ upstream: upstream.name });
    const { transport } = await createUpstreamTransport(
      upstream.name,
      upstream.transport,
      upstream.credentialsSecret,
      {
        secrets: deps.secrets,
        logger,
        stdioServers: deps.stdioServers,
        fetch: deps.fetch,
        credentialOrigins: deps.credentialOrigins,
        maxResponseBytes: MAX_ANSWER_BYTES,
        parentEnv: deps.parentEnv,
      },
    );
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const connection = new McpUpstreamConnection(upstream, client, transport, logger);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => connection.changed());
    client.onclose = () => connection.ended();
    client.onerror = (error) => {
      logger.warn({ err: error }, 'MCP upstream transport error');
    };
    try {
      await client.connect(transport, { timeout: upstream.timeoutMs });
    } catch (error) {
      connection.closing = true;
      await client.close().catch(() => undefined);
      throw new McpUpstreamError(
        `could not connect to upstream MCP server "${upstream.name}": ${describe(error)}`,
        { cause: error },
      );
    }
    if (!client.getServerCapabilities()?.tools)
      logger.warn('the upstream does not declare the tools capability; listing may fail');
    return connection;
  }

  /** True once the connection has ended (closed, the server went away, or the child exited). */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Every tool the server lists, following `nextCursor` to the last page. Tools are parsed one
   * by one: an entry without a string name is logged and left out, anything else malformed is
   * kept for `toToolDefinitions` to report.
   */
  async listTools(): Promise<UpstreamTool[]> {
    const tools: UpstreamTool[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      let result: z.infer<typeof ToolsPage>;
      try {
        result = await this.client.request(
          { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
          ToolsPage,
          { timeout: this.upstream.timeoutMs },
        );
      } catch (error) {
        throw new McpUpstreamError(
          `listing the tools of upstream MCP server "${this.upstream.name}" failed: ${describe(error)}`,
          { cause: error },
        );
      }
      for (const [index, raw] of result.tools.entries()) {
        const parsed = UpstreamTool.safeParse(raw);
        if (parsed.success) tools.push(parsed.data);
        else this.logger.warn({ page, index }, 'upstream listed a tool without a name; ignored');
      }
      if (result.nextCursor === undefined) return tools;
      if (seen.has(result.nextCursor))
        throw new McpUpstreamError(
          `upstream MCP server "${this.upstream.name}" repeated the cursor "${result.nextCursor.slice(0, 100)}"`,
        );
      seen.add(result.nextCursor);
      cursor = result.nextCursor;
    }
    throw new McpUpstreamError(
      `upstream MCP server "${this.upstream.name}" listed more than ${MAX_PAGES} pages of tools`,
    );
  }

  /** Called on every notifications/tools/list_changed; returns the unsubscribe function. */
  onListChanged(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * Called once when the connection ends other than by {@link close} (server gone, stdio child
   * exited), so the caller can reconnect; returns the unsubscribe function.
   */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Ends the session (a DELETE for Streamable HTTP; stdin closed, then signals, for stdio). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.transport instanceof StreamableHTTPClientTransport) {
      await Promise.race([
        this.transport.terminateSession().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, this.upstream.timeoutMs).unref()),
      ]);
    }
    await this.client.close().catch(() => undefined);
  }

  private changed(): void {
    for (const listener of this.changeListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'list_changed listener failed');
      }
    }
  }

  private ended(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.closing) return;
    this.logger.warn('upstream MCP connection ended');
    for (const listener of this.closeListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'close listener failed');
      }
    }
  }
}
