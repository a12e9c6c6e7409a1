import { toolRequestsTopic } from '@toolbus/contracts';
import { SecretStore } from '@toolbus/security';
import { catalogToolConsumer } from '@toolbus/tool-sdk';
import { mcpBridgeOwnConfig } from './config.js';
import { createMcpBridge } from './mcp-bridge.js';

/** The MCP bridge: runs the approved tools of registered upstream MCP servers. */
export const mcpBridgeService = catalogToolConsumer({
  service: 'mcp-bridge',
  config: mcpBridgeOwnConfig,
  tools: ({ view, config, logger }) => {
    // Closed after the consumer drained: the upstream clients and their stdio children.
    const bridge = createMcpBridge({
      view,
      secrets: new SecretStore(config.SECRETS_DIR),
      logger,
      connectTimeoutMs: config.MCP_CONNECT_TIMEOUT_MS,
      stdioCommands: config.MCP_STDIO_COMMANDS ?? [],
      topic: toolRequestsTopic('mcp-bridge'),
    });
    return { provider: bridge.provider, close: () => bridge.close() };
  },
});
