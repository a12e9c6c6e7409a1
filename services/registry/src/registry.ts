import type { INestApplication } from '@nestjs/common';
import { platformTopics } from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import { createLogger, type Logger } from '@toolbus/observability';
import { openDatabase, type DataSource } from '@toolbus/persistence';
import { SecretStore, TokenVerifier } from '@toolbus/security';
import { busFromConfig, startService } from '@toolbus/service-kit';
import { AppModule } from './app.module.js';
import { CatalogService } from './catalog/catalog.service.js';
import { SourceStore } from './catalog/source-store.js';
import { SourceSync } from './catalog/source-sync.js';
import { ToolStore } from './catalog/tool-store.js';
import { loadRegistryConfig, type RegistryConfig } from './config.js';
import { registryMigrations } from './database/migrations/index.js';
import { OutboxRelay } from './events/outbox.js';
import { UpstreamService } from './upstreams/upstream.service.js';

export interface RegistryOptions {
  env?: NodeJS.ProcessEnv;
  /** Tests and the embedded host pass their own bus and logger. */
  bus?: MessageBus;
  logger?: Logger;
  handleSignals?: boolean;
  /** Apply the migrations and stop (the chart's migration Job). Default: `--migrate-only` in argv. */
  migrateOnly?: boolean;
}

export interface RunningRegistry {
  app: INestApplication;
  url: string;
  db: DataSource;
  bus: MessageBus;
  relay: OutboxRelay;
  upstreams: UpstreamService;
  config: RegistryConfig;
  close(): Promise<void>;
}

/**
 * Starts the registry: migrations, the outbox relay that publishes change and audit events,
 * the upstream MCP watchers, and the HTTP API. Returns undefined after `--migrate-only`.
 */
export async function startRegistry(
  options: RegistryOptions = {},
): Promise<RunningRegistry | undefined> {
  const config = loadRegistryConfig(options.env ?? process.env);
  const verifier = new TokenVerifier(config);
  const logger = options.logger ?? createLogger({ name: 'registry', level: config.LOG_LEVEL });
  const db = await openDatabase({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    migrations: registryMigrations,
    logger,
  });
  if (options.migrateOnly ?? process.argv.includes('--migrate-only')) {
    await db.destroy();
    logger.info('migrations applied; exiting (--migrate-only)');
    return undefined;
  }
  const bus = options.bus ?? busFromConfig('registry', config, logger);
  await bus.ensureTopics(platformTopics());
  const relay = new OutboxRelay(
    db,
    bus,
    logger.child({ component: 'outbox' }),
    config.OUTBOX_POLL_MS,
  );
  const tools = new ToolStore(db);
  const catalog = new CatalogService(tools, relay);
  const sync = new SourceSync(db, new SourceStore(), tools, catalog, relay);
  const secrets = new SecretStore(config.SECRETS_DIR);
  const upstreams = new UpstreamService(
    db,
    sync,
    secrets,
    logger.child({ component: 'upstreams' }),
    relay,
    config.MCP_STDIO_COMMANDS ?? [],
  );
  relay.start();

  let closed = false;
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    await upstreams.stop();
    await relay.stop();
    if (!options.bus) await bus.close(config.SHUTDOWN_DEADLINE_MS);
    await db.destroy();
  };
  let app: INestApplication;
  try {
    app = await startService({
      name: 'registry',
      module: AppModule.forRoot({
        config,
        bus,
        db,
        logger,
        catalog,
        sync,
        upstreams,
        verifier,
        secrets,
      }),
      logger,
      host: config.HOST,
      port: config.PORT,
      handleSignals: options.handleSignals,
      bodyLimit: config.REGISTRY_MAX_BODY_BYTES,
      configure: (nest) => {
        nest.getHttpAdapter().getInstance().addHook('onClose', shutdown);
      },
    });
  } catch (error) {
    await shutdown();
    throw error;
  }
  if (config.UPSTREAM_SYNC) await upstreams.start();
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    db,
    bus,
    relay,
    upstreams,
    config,
    close: async () => {
      await app.close();
      await shutdown();
    },
  };
}
