import { egressConfig } from '@toolbus/egress';
import { stdioServersConfig } from '@toolbus/mcp-upstream';
import { authConfig, credentialOriginsConfig, secretsConfig } from '@toolbus/security';
import { commonConfig, env, loadConfig, type ConfigOf } from '@toolbus/service-kit';

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
  // Upstream MCP servers: the stdio servers it may start to list their tools, where their
  // bearer secrets may go, and which internal addresses their URLs may reach.
  ...stdioServersConfig,
  ...credentialOriginsConfig,
  ...egressConfig,
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
