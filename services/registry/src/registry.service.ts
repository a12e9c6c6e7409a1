import type { DataSource } from '@toolbus/persistence';
import { checkAuthConfig } from '@toolbus/security';
import {
  defineService,
  startService,
  type RunningService,
  type ServiceHost,
} from '@toolbus/service-kit';
import { registryConfig, type RegistryConfig } from './config.js';
import { registryMigrations } from './database/migrations/index.js';
import { OutboxRelay } from './events/outbox.js';
import { RegistryModule } from './registry.module.js';
import { UpstreamWatchWorker } from './upstreams/upstream-watch.worker.js';

/**
 * The registry: the governed catalog over HTTP on its own schema, the outbox relay that
 * publishes change and audit events, and the upstream MCP watches.
 */
export const registryService = defineService({
  name: 'registry',
  config: registryConfig,
  database: (config) => ({ schema: config.DATABASE_SCHEMA, migrations: registryMigrations }),
  // OpenAPI documents can be big.
  bodyLimit: (config) => config.REGISTRY_MAX_BODY_BYTES,
  module: ({ config }) => {
    // Before anything listens: a shared key beside a JWKS (or neither) is a configuration error.
    checkAuthConfig(config);
    return { module: RegistryModule };
  },
  workers: [OutboxRelay, UpstreamWatchWorker],
});

export type RunningRegistry = RunningService<RegistryConfig, DataSource>;

/** Starts the registry on what the host gives it (tests, the embedded platform). */
export async function startRegistry(host: ServiceHost = {}): Promise<RunningRegistry | undefined> {
  return (await startService(registryService, host)) as RunningRegistry | undefined;
}
