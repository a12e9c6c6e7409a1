export { AuthGuard, CurrentPrincipal, Public, RequireScopes } from './auth.guard.js';
export { SecretNotFoundError, SecretStore, secretsConfig, type SecretsConfig } from './secrets.js';
export {
  authConfig,
  hasScope,
  hasScopes,
  TokenVerifier,
  UnauthenticatedError,
  type AuthConfig,
} from './tokens.js';
