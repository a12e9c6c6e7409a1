export {
  createUpstreamTransport,
  StdioCommandNotAllowedError,
  stdioChildEnv,
  type UpstreamTransportOptions,
} from './transport.js';
