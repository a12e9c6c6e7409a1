export {
  McpUpstreamConnection,
  McpUpstreamError,
  type McpUpstreamDeps,
} from './mcp-upstream-connection.js';
export {
  registryToolName,
  snakeCase,
  toolNamePrefix,
  toToolDefinitions,
  UpstreamTool,
  type McpToolDefinition,
  type McpToolMapping,
  type SkippedMcpTool,
} from './mcp-tool-mapping.js';
