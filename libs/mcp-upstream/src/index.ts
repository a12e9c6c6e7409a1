export { limitResponses, UpstreamResponseTooLargeError } from './response-limit.js';
export { checkStdioSecrets, stdioSecretsInEnvironment } from './stdio-secrets.js';
export {
  resolveStdioServer,
  stdioChildEnv,
  StdioServerEntry,
  StdioServerNotAllowedError,
  stdioServersConfig,
  type StdioServers,
  type StdioServersConfig,
} from './stdio-servers.js';
export {
  createUpstreamTransport,
  CredentialOriginError,
  type UpstreamTransportOptions,
} from './transport.js';
