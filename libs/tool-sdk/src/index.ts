export {
  catalogConsumerConfig,
  catalogToolConsumer,
  type CatalogConsumerConfig,
  type CatalogToolConsumerOptions,
  type CatalogTools,
} from './catalog-consumer.js';
export { toolConsumerConfig, type ToolConsumerConfig } from './config.js';
export {
  runToolConsumer,
  TOOL_DEFINITIONS,
  toolConsumer,
  type RunningToolConsumer,
  type ServedTools,
  type ToolConsumerConfigOf,
  type ToolConsumerOptions,
} from './consumer.js';
export {
  CreateToolCallDedup1732406400000,
  ScopeToolCallDedupByTenant1767225600000,
  toolSdkMigrations,
} from './dedup.js';
export { DedupRetention, type DedupRetentionOptions } from './dedup-retention.worker.js';
export { callGrantVerifierFromConfig } from './call-authorizer.js';
export {
  defineTool,
  toToolDefinition,
  type Tool,
  type ToolContext,
  type ToolSpec,
} from './define-tool.js';
export {
  isToolProvider,
  jsonSchemaTool,
  zodFromJsonSchema,
  type ToolProvider,
} from './json-schema-tool.js';
export { BusinessError, classify, RetryableToolError } from './errors.js';
export { ToolRuntime, type ToolReply } from './runtime.js';
