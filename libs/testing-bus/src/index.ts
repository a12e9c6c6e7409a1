export {
  consumerTestEnv,
  startToolCaller,
  type ToolAnswer,
  type ToolCaller,
  type ToolCallerCallOptions,
  type ToolCallerOptions,
} from './tool-caller.js';
