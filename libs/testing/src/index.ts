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
export { readmeTable } from './readme.js';
export { issueToken, TEST_JWT_SECRET, type TestTokenClaims } from './tokens.js';
export { completedOf, failureOf, toolCall, type ToolCallOptions } from './tool-calls.js';
