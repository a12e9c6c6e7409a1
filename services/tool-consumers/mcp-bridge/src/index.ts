export {
  McpClientPool,
  PoolClosedError,
  type McpClientPoolOptions,
  type PooledClient,
} from './bridge/mcp-client-pool.js';
export {
  callFailure,
  connectFailure,
  MAX_UPSTREAM_TEXT,
  McpToolExecutor,
  safeUpstreamText,
  toToolOutput,
  type McpCallContext,
} from './bridge/mcp-tool-executor.js';
export { McpToolProvider, type McpToolProviderOptions } from './catalog/mcp-tool-provider.js';
export {
  loadMcpBridgeConfig,
  mcpBridgeConfig,
  mcpBridgeOwnConfig,
  type McpBridgeConfig,
} from './config.js';
export { createMcpBridge, type McpBridge, type McpBridgeOptions } from './mcp-bridge.js';
export { mcpBridgeService, mcpBridgeTools } from './mcp-bridge.service.js';
