export { HttpToolProvider, type CatalogView } from './catalog/http-tool-provider.js';
export {
  httpExecutorConfig,
  httpExecutorOwnConfig,
  loadHttpExecutorConfig,
  type HttpExecutorConfig,
} from './config.js';
export {
  HttpToolExecutor,
  type CallSpan,
  type ExecuteOptions,
  type HttpToolExecutorOptions,
  type SecretReader,
} from './executor/http-tool-executor.js';
export {
  mapRequest,
  wireText,
  type AppliedCredentials,
  type MappedRequest,
} from './executor/request-mapping.js';
export {
  isJsonContentType,
  retryAfterMs,
  safeExcerpt,
  secretForms,
} from './executor/response-text.js';
export { httpExecutorService, httpExecutorTools } from './http-executor.service.js';
