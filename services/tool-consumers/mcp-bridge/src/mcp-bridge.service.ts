import { toolRequestsTopic } from '@toolbus/contracts';
import { egressAgent, egressFetch } from '@toolbus/egress';
import { checkStdioSecrets } from '@toolbus/mcp-upstream';
import type { Logger } from '@toolbus/observability';
import type { RegistryView } from '@toolbus/registry-client';
import { SecretStore } from '@toolbus/security';
import type { ConfigOf } from '@toolbus/service-kit';
import { catalogToolConsumer, type CatalogTools } from '@toolbus/tool-sdk';
import { mcpBridgeConfig, mcpBridgeOwnConfig } from './config.js';
import { createMcpBridge } from './mcp-bridge.js';

/**
 * The bridge's tools over a catalog view, wired from its config (the object `loadConfig`
 * returned, which knows what came from files): one pool of guarded connections for every
 * upstream (EGRESS_ALLOW), bearer secrets only to their origins (CREDENTIAL_ORIGINS), results
 * bounded (MCP_MAX_RESPONSE_BYTES), stdio servers by entry (MCP_STDIO_SERVERS). Serves the
 * definitions routed to `topic`. The service serves the registry's view; tests give another.
 */
export function mcpBridgeTools(context: {
  view: RegistryView;
  config: ConfigOf<typeof mcpBridgeOwnConfig>;
  logger: Logger;
  topic?: string;
}): CatalogTools {
  const { view, config, logger } = context;
  // Before any stdio server can start: none may find a secret in /proc/<ppid>/environ.
  checkStdioSecrets(mcpBridgeConfig, config);
  const agent = egressAgent({ allow: config.EGRESS_ALLOW });
  // Closed after the consumer drained: the upstream clients and their stdio children.
  const bridge = createMcpBridge({
    view,
    secrets: new SecretStore(config.SECRETS_DIR),
    logger,
    connectTimeoutMs: config.MCP_CONNECT_TIMEOUT_MS,
    stdioServers: config.MCP_STDIO_SERVERS,
    fetch: egressFetch(agent),
    credentialOrigins: config.CREDENTIAL_ORIGINS,
    maxResponseBytes: config.MCP_MAX_RESPONSE_BYTES,
    topic: context.topic ?? toolRequestsTopic('mcp-bridge'),
  });
  return {
    provider: bridge.provider,
    close: async () => {
      await bridge.close();
      await agent.close();
    },
  };
}

/** The MCP bridge: runs the approved tools of registered upstream MCP servers. */
export const mcpBridgeService = catalogToolConsumer({
  service: 'mcp-bridge',
  config: mcpBridgeOwnConfig,
  tools: mcpBridgeTools,
});
