import './tracing.js';
import { toolRequestsTopic } from '@toolbus/contracts';
import { SecretStore } from '@toolbus/security';
import { runMain } from '@toolbus/service-kit';
import { runCatalogToolConsumer } from '@toolbus/tool-sdk';
import { mcpBridgeOwnConfig } from './config.js';
import { createMcpBridge } from './mcp-bridge.js';

runMain('mcp-bridge', () =>
  runCatalogToolConsumer({
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
  }),
);
