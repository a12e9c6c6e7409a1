export {
  AskCompleted,
  AskFailed,
  AskProgress,
  AskRequested,
  PrincipalAssertion,
  ToolCallSummary,
} from './ask.js';
export { ToolInvocationAnswered, ToolInvocationRequested } from './invoke.js';
export { AuditEvent } from './audit.js';
export {
  AuditChainPage,
  AuditChainQuery,
  AuditDecision,
  AuditEntry,
  AuditPage,
  AuditPaths,
  AuditQuery,
  AuditScopes,
} from './audit-api.js';
export {
  appendToChain,
  ChainHead,
  ChainRow,
  chainRowHash,
  GENESIS_HASH,
  verifyChain,
  type ChainFinding,
  type ChainValue,
  type ChainVerdict,
  type VerifyChainOptions,
} from './audit-chain.js';
export { canonicalJson } from './canonical-json.js';
export {
  AllMessageKinds,
  InvalidPayloadError,
  messageKind,
  messageKindOfType,
  Messages,
  OtherMessageVersions,
  parsePayload,
  SharedSchemas,
  type MessageKind,
  type MessageName,
  type PayloadOf,
  type Upcast,
} from './catalog.js';
export {
  CE_HEADERS,
  CloudEventAttributes,
  describeIssues,
  validationError,
  fromCloudEventHeaders,
  InvalidEnvelopeError,
  jsonPointer,
  toCloudEventHeaders,
  TRACE_HEADERS,
  type Headers,
} from './cloudevents.js';
export {
  ContextId,
  ErrorClass,
  FieldIssue,
  IdempotencyKey,
  JsonObject,
  Principal,
  Region,
  SafeError,
  Scope,
  TenantId,
  Timestamp,
  ToolName,
  Usage,
} from './common.js';
export { exportJsonSchemas, schemaFileOf } from './json-schema.js';
export { hasScope, hasScopes } from './scopes.js';
export {
  breakingSchemaChanges,
  releaseCompatProblems,
  type BreakingChange,
  type JsonSchema,
} from './schema-compat.js';
export {
  ChatMessage,
  ContentPart,
  ModelFailed,
  ModelRequest,
  ModelResponse,
  TextPart,
  ToolCall,
  ToolResultPart,
  ToolSpec,
  ToolUsePart,
} from './model.js';
export { ToolCallCompleted, ToolCallFailed, ToolCallRequested } from './tool-call.js';
export { upcastPath, upcastPayload } from './upcast.js';
export {
  HttpAuth,
  HttpBinding,
  HttpMethod,
  HttpParameterBinding,
  McpBinding,
  McpServerTransport,
  RegistryChanged,
  SecretName,
  StdioEntryName,
  ToolAnnotations,
  type StdioCommandTransport,
  type StdioEntryTransport,
  ToolBinding,
  ToolDefinition,
  ToolStatus,
  ToolTransport,
} from './tool-definition.js';
export {
  dlqTopic,
  platformTopics,
  REPLY_TOPICS,
  Topics,
  toolRequestsTopic,
  type PlatformTopic,
  type TopicSpec,
} from './topics.js';
export {
  CatalogEntry,
  CatalogSnapshot,
  ImportDiff,
  ImportedTool,
  LifecycleAction,
  LifecycleRequest,
  McpUpstreamRecord,
  McpUpstreamRequest,
  OpenApiImportRequest,
  RegisterToolRequest,
  RegisterToolResponse,
  RegistryPaths,
  RegistryScopes,
  SourceName,
  ToolPage,
  ToolSource,
  ToolVersionRecord,
} from './registry-api.js';
