export { infraFromEnv, type InfraSettings } from './infra.js';
export { deferred, uniqueName, waitFor, type Deferred } from './wait.js';
