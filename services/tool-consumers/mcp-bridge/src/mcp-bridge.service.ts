import { toolRequestsTopic } from '@toolbus/contracts';
import { egressAgent, egressFetch } from '@toolbus/egress';
import { checkStdioSecrets } from '@toolbus/mcp-upstream';
import { SecretStore } from '@toolbus/security';
import { catalogToolConsumer } from '@toolbus/tool-sdk';
import { mcpBridgeConfig, mcpBridgeOwnConfig } from './config.js';
import { createMcpBridge } from './mcp-bridge.js';

/** The MCP bridge: runs the approved tools of registered upstream MCP servers. */
export const mcpBridgeService = catalogToolConsumer({
  service: 'mcp-bridge',
  config: mcpBridgeOwnConfig,
  tools: ({ view, config, logger }) => {
    // Before any stdio server can start: none may find a secret in /proc/<ppid>/environ.
    checkStdioSecrets(mcpBridgeConfig, config);
    // One pool of guarded connections for every upstream: internal addresses are refused.
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
      topic: toolRequestsTopic('mcp-bridge'),
    });
    return {
      provider: bridge.provider,
      close: async () => {
        await bridge.close();
        await agent.close();
      },
    };
  },
});
