export { CatalogKeys, type CatalogKeysOptions } from './catalog-keys.js';
export {
  canonicalJson,
  RegistryChangeSigner,
  signatureProblem,
  signingInput,
  type Jwks,
  type KeyLookup,
  type SignatureProblem,
} from './change-signature.js';
export {
  compareVersions,
  RegistryView,
  type CatalogListener,
  type RefusalReason,
  type RegistryViewOptions,
  type ServedTool,
} from './registry-view.js';
export { registryViewConfig, type RegistryViewConfig } from './view-config.js';
