export {
  consumerTestEnv,
  startToolCaller,
  type ToolAnswer,
  type ToolCaller,
  type ToolCallerCallOptions,
  type ToolCallerOptions,
} from './tool-caller.js';
export {
  grantEnv,
  signTestGrant,
  TEST_GRANT_ISSUER,
  TEST_GRANT_KID,
  testGrantHeader,
  testGrantSigner,
  withTestGrant,
} from './test-grants.js';
