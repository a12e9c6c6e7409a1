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
export { inputHash } from './input-hash.js';
export {
  CALL_GRANT_ALG,
  CALL_GRANT_TYP,
  CallGrantClaims,
  CallGrantError,
  CallGrantSigner,
  type CallGrant,
  type CallGrantRefusal,
  type CallGrantSignerOptions,
  type GrantedCall,
} from './call-grant.js';
export {
  CallGrantVerifier,
  type CallGrantVerifierOptions,
  type CallUnderGrant,
} from './call-grant-verifier.js';
export {
  fileGrantKeys,
  parseGrantJwks,
  urlGrantKeys,
  type FileGrantKeysOptions,
  type GrantKeys,
  type UrlGrantKeysOptions,
} from './grant-keys.js';
export {
  PRINCIPAL_ASSERTION_TYP,
  PrincipalAssertionError,
  PrincipalAssertionSigner,
  PrincipalAssertionVerifier,
  requestHash,
} from './principal-assertion.js';
export { redactOutput, redactSecrets, secretForms } from './redaction.js';
export {
  AuditCipher,
  AuditDecryptError,
  AuditKey,
  AuditKeyError,
  auditKeysConfig,
  type AuditCipherOptions,
  type AuditFieldRef,
  type AuditKeysConfig,
} from './audit-cipher.js';
