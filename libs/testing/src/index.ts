export { infraFromEnv, type InfraSettings } from './infra.js';
export { deferred, uniqueName, waitFor, type Deferred } from './wait.js';
export { startFakeAnthropic } from './fakes/anthropic.js';
export { startFakeOpenAI } from './fakes/openai.js';
export type {
  FakeFault,
  FakeProvider,
  FakeReply,
  FakeRequestView,
  FakeTurn,
  RecordedRequest,
} from './fakes/types.js';
export { freePort, startServiceProcess, type ServiceProcess } from './process.js';
export { readmeTable } from './readme.js';
export { issueToken, TEST_JWT_SECRET, type TestTokenClaims } from './tokens.js';
export { completedOf, failureOf, toolCall, type ToolCallOptions } from './tool-calls.js';
export {
  startMcpHttpServer,
  type McpHttpServerOptions,
  type McpHttpTestServer,
  type RecordedMcpRequest,
} from './mcp/http-server.js';
export {
  createMcpStdioFixture,
  exampleStdioTools,
  parentEnvironTool,
  stdioMcpServerPath,
  type McpStdioBehaviour,
  type McpStdioFixture,
  type McpStdioTool,
} from './mcp/stdio.js';
export {
  createMcpTestServer,
  exampleMcpTools,
  TINY_PNG_BASE64,
  type McpTestTool,
  type McpTestToolAnnotations,
  type McpTestToolContext,
} from './mcp/tools.js';
