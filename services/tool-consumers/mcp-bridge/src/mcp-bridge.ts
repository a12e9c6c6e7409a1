import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { StdioServers } from '@toolbus/mcp-upstream';
import type { Logger } from '@toolbus/observability';
import type { RegistryView } from '@toolbus/registry-client';
import type { CredentialOrigins, SecretStore } from '@toolbus/security';
import { McpClientPool } from './bridge/mcp-client-pool.js';
import { McpToolExecutor } from './bridge/mcp-tool-executor.js';
import { McpToolProvider } from './catalog/mcp-tool-provider.js';

export interface McpBridgeOptions {
  /** The catalog: `RegistryView.start(...)` in production, `RegistryView.of(...)` in tests. */
  view: RegistryView;
  secrets: Pick<SecretStore, 'read'>;
  logger: Logger;
  /** MCP_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs: number;
  /** MCP_STDIO_SERVERS: the stdio servers the bridge may start, by entry name. */
  stdioServers: StdioServers;
  /** The guarded fetch of libs/egress, for Streamable HTTP upstreams (EGRESS_ALLOW). */
  fetch: FetchLike;
  /** CREDENTIAL_ORIGINS: which origins each bearer secret may be sent to. */
  credentialOrigins: CredentialOrigins;
  /** MCP_MAX_RESPONSE_BYTES: the largest result a call may return. */
  maxResponseBytes: number;
  /** Serve only definitions routed to this topic (`tool_requests.<service>`). */
  topic?: string;
  /** Where stdio children get PATH and HOME from; default this process's environment. */
  parentEnv?: NodeJS.ProcessEnv;
}

/** The bridge's parts, wired: the tool provider for runToolConsumer and what to close. */
export interface McpBridge {
  provider: McpToolProvider;
  pool: McpClientPool;
  executor: McpToolExecutor;
  /** Stops following the catalog and closes every upstream client (stdio children end). */
  close(): Promise<void>;
}

export function createMcpBridge(options: McpBridgeOptions): McpBridge {
  const pool = new McpClientPool({
    secrets: options.secrets,
    logger: options.logger.child({ component: 'mcp-client-pool' }),
    connectTimeoutMs: options.connectTimeoutMs,
    stdioServers: options.stdioServers,
    fetch: options.fetch,
    credentialOrigins: options.credentialOrigins,
    maxResponseBytes: options.maxResponseBytes,
    parentEnv: options.parentEnv,
  });
  const executor = new McpToolExecutor(pool, { maxResponseBytes: options.maxResponseBytes });
  const provider = new McpToolProvider({
    view: options.view,
    executor,
    topic: options.topic,
    logger: options.logger,
  });
  return {
    provider,
    pool,
    executor,
    close: async () => {
      provider.close();
      await pool.close();
    },
  };
}
