import { egressConfig } from '@toolbus/egress';
import { stdioServersConfig } from '@toolbus/mcp-upstream';
import { env, loadConfig, type ConfigOf, type ConfigSpec } from '@toolbus/service-kit';
import { credentialOriginsConfig, secretsConfig } from '@toolbus/security';
import { catalogConsumerConfig, toolConsumerConfig } from '@toolbus/tool-sdk';

/** The bridge's own variables; runToolConsumer validates them with the SDK's. */
export const mcpBridgeOwnConfig = {
  ...secretsConfig,
  MCP_CONNECT_TIMEOUT_MS: {
    schema: env.int(100, 120_000),
    default: '5000',
    description:
      'Longest wait for an upstream connection and its MCP handshake (spawn or HTTP, then initialize); the call deadline bounds it too',
  },
  MCP_MAX_RESPONSE_BYTES: {
    schema: env.int(1024, 100 * 1024 * 1024),
    default: '1048576',
    description:
      'Largest result an upstream tool call may return (its JSON); a larger one is refused with a tool error, and an HTTP answer is cut off a little beyond it',
  },
  ...stdioServersConfig,
  ...credentialOriginsConfig,
  ...egressConfig,
} satisfies ConfigSpec;

/** Every variable of the MCP bridge: the SDK's, those of catalog-driven consumers, and its own. */
export const mcpBridgeConfig = {
  ...toolConsumerConfig,
  ...catalogConsumerConfig,
  ...mcpBridgeOwnConfig,
};

export type McpBridgeConfig = ConfigOf<typeof mcpBridgeConfig>;

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadMcpBridgeConfig(source: NodeJS.ProcessEnv = process.env): McpBridgeConfig {
  return loadConfig(mcpBridgeConfig, source);
}
