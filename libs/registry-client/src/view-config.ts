import { env, type ConfigOf, type ConfigSpec } from '@toolbus/service-kit';

/**
 * The variables of every service that reads the catalog through a {@link RegistryView}: the
 * catalog consumers (http-executor, mcp-bridge) and the orchestrator.
 */
export const registryViewConfig = {
  REGISTRY_URL: {
    schema: env.url(),
    description:
      'Registry base URL: the catalog snapshot at start-up, then toolbus.registry.changes keeps it current',
  },
  REGISTRY_JWKS_URL: {
    schema: env.optional(env.url()),
    description:
      "The registry's public keys, which every catalog change must be signed with; default <REGISTRY_URL>/.well-known/jwks.json",
  },
  REGISTRY_JWKS_FILE: {
    schema: env.optional(env.string()),
    description: 'A mounted JWKS of the registry instead of REGISTRY_JWKS_URL',
  },
  REGISTRY_SNAPSHOT_TIMEOUT_MS: {
    schema: env.int(100, 600_000),
    default: '10000',
    description: 'Give up starting when the registry snapshot takes longer than this',
  },
} satisfies ConfigSpec;

export type RegistryViewConfig = ConfigOf<typeof registryViewConfig>;
