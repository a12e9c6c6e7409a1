import { Scope } from '@toolbus/contracts';
import { authConfig, credentialOriginsConfig, secretsConfig } from '@toolbus/security';
import { commonConfig, env, loadConfig, type ConfigOf } from '@toolbus/service-kit';

/** `{source}` in a default scope stands for the import's scope area (its name, `-` as `_`). */
const defaultScopeTemplate = env
  .string()
  .refine(
    (template) => Scope.safeParse(template.replaceAll('{source}', 'crm_api')).success,
    'must be a scope (area:action), {source} standing for the import, e.g. {source}:use',
  );

export const registryConfig = {
  ...commonConfig,
  ...authConfig,
  DATABASE_URL: {
    schema: env.string(),
    secret: true,
    default: 'pglite://memory',
    description: 'The catalog database: postgres://… or pglite://memory (embedded)',
  },
  DATABASE_SCHEMA: {
    schema: env.string(),
    default: 'registry',
    description: 'PostgreSQL schema of the registry',
  },
  ...secretsConfig,
  ...credentialOriginsConfig,
  REGISTRY_SIGNING_KEY_FILE: {
    schema: env.optional(env.string()),
    description:
      'Ed25519 private key (PKCS#8 PEM or JWK) change events are signed with, read again when it changes; unset: a key made at start-up (one replica only)',
  },
  REGISTRY_VERIFICATION_KEYS_FILE: {
    schema: env.optional(env.string()),
    description:
      'A JWKS of extra public keys served beside the signing key (the next and the previous key during a rotation)',
  },
  IMPORT_DEFAULT_SCOPE: {
    schema: defaultScopeTemplate,
    default: '{source}:use',
    description:
      'The scope of imported tools that declare none (OpenAPI operations without security, upstream servers without scopes); {source} is the import',
  },
  MCP_STDIO_COMMANDS: {
    schema: env.optional(env.list()),
    description:
      'Commands (exact paths, comma-separated) a stdio upstream MCP server may run; unset refuses every stdio upstream',
  },
  REGISTRY_PAGE_LIMIT: {
    schema: env.int(1, 1000),
    default: '100',
    description: 'Largest page /v1/tools returns',
  },
  REGISTRY_MAX_BODY_BYTES: {
    schema: env.int(1024, 64 * 1024 * 1024),
    default: String(10 * 1024 * 1024),
    description: 'Largest request body (OpenAPI documents can be big)',
  },
  OUTBOX_POLL_MS: {
    schema: env.int(50, 60_000),
    default: '1000',
    description:
      "How often the outbox relay looks for events another replica's commit left (its own are sent at once)",
  },
  UPSTREAM_SYNC: {
    schema: env.bool(),
    default: 'true',
    description:
      'Keep upstream MCP servers in sync (list_changed and schedule); off in one-shot tools',
  },
};

export type RegistryConfig = ConfigOf<typeof registryConfig>;

export function loadRegistryConfig(environment: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig(registryConfig, environment);
}
