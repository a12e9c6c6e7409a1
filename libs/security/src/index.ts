export { AuthGuard, CurrentPrincipal, RequireScopes } from './auth.guard.js';
// The public marker lives in service-kit (the health controller needs it); offered here too,
// beside the guard that honours it.
export { Public } from '@toolbus/service-kit';
export { SecretNotFoundError, SecretStore, secretsConfig, type SecretsConfig } from './secrets.js';
export {
  authConfig,
  hasScope,
  hasScopes,
  TokenVerifier,
  UnauthenticatedError,
  type AuthConfig,
} from './tokens.js';
export {
  credentialOriginProblem,
  credentialOriginsConfig,
  type CredentialOrigins,
  type CredentialOriginsConfig,
} from './credential-origins.js';
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
export {
  appendToChain,
  canonicalJson,
  ChainHead,
  ChainRow,
  chainRowHash,
  GENESIS_HASH,
  verifyChain,
  type ChainFinding,
  type ChainValue,
  type ChainVerdict,
  type VerifyChainOptions,
} from './audit-chain.js';
export {
  AuditChainPage,
  AuditEntry,
  AuditPage,
  AuditPaths,
  AuditScopes,
} from './audit-ledger-api.js';
