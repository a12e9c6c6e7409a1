export { AuthGuard, CurrentPrincipal, RequireScopes } from './auth.guard.js';
// The public marker lives in service-kit (the health controller needs it); offered here too,
// beside the guard that honours it.
export { Public } from '@toolbus/service-kit';
export { SecretNotFoundError, SecretStore, secretsConfig, type SecretsConfig } from './secrets.js';
export {
  authConfig,
  checkAuthConfig,
  hasScope,
  hasScopes,
  isTeamMember,
  TokenVerifier,
  UnauthenticatedError,
  type AuthConfig,
  type TokenVerifierConfig,
} from './tokens.js';
export {
  credentialOriginProblem,
  credentialOriginsConfig,
  type CredentialOrigins,
  type CredentialOriginsConfig,
} from './credential-origins.js';
