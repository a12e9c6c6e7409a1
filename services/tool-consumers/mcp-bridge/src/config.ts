import { env, loadConfig, type ConfigOf, type ConfigSpec } from '@toolbus/service-kit';
import { toolConsumerConfig } from '@toolbus/tool-sdk';

/** The bridge's own variables; runToolConsumer validates them with the SDK's. */
export const mcpBridgeOwnConfig = {
  REGISTRY_URL: {
    schema: env.url(),
    description:
      'Registry base URL: the catalog snapshot at start-up, kept current by toolbus.registry.changes. Required: the bridge serves only the MCP tools the registry lists',
  },
  REGISTRY_SNAPSHOT_TIMEOUT_MS: {
    schema: env.int(100, 600_000),
    default: '10000',
    description: 'Give up starting when the registry snapshot takes longer than this',
  },
  SECRETS_DIR: {
    schema: env.string(),
    default: '/var/run/secrets/toolbus',
    description:
      'Where the secrets named by credentialsSecret are mounted, a folder per secret; the bearer token is its file "token", re-read at every upstream connect',
  },
  MCP_CONNECT_TIMEOUT_MS: {
    schema: env.int(100, 120_000),
    default: '5000',
    description:
      'Longest wait for an upstream connection and its MCP handshake (spawn or HTTP, then initialize); the call deadline bounds it too',
  },
  MCP_STDIO_COMMANDS: {
    schema: env.optional(env.list()),
    description:
      'Commands a stdio upstream may run, exact match (e.g. /usr/local/bin/mcp-files); unset: stdio upstreams are refused',
  },
} satisfies ConfigSpec;

/** Every variable of the MCP bridge: the SDK's (`toolConsumerConfig`) and its own. */
export const mcpBridgeConfig = { ...toolConsumerConfig, ...mcpBridgeOwnConfig };

export type McpBridgeConfig = ConfigOf<typeof mcpBridgeConfig>;

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadMcpBridgeConfig(source: NodeJS.ProcessEnv = process.env): McpBridgeConfig {
  return loadConfig(mcpBridgeConfig, source);
}
