import { Module, type Provider } from '@nestjs/common';
import type { MessageBus } from '@toolbus/messaging';
import { MESSAGE_BUS } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import type { DataSource } from '@toolbus/persistence';
import { RegistryChangeSigner } from '@toolbus/registry-client';
import { AuthGuard, SecretStore, TokenVerifier } from '@toolbus/security';
import { DATA_SOURCE, LOGGER, SERVICE_CONFIG } from '@toolbus/service-kit';
import { ApiDocsController } from './api-docs/api-docs.controller.js';
import { CatalogService } from './catalog/catalog.service.js';
import { SourceStore } from './catalog/source-store.js';
import { SourceSync } from './catalog/source-sync.js';
import { ToolStore } from './catalog/tool-store.js';
import { CATALOG_PAGE_LIMIT, ToolsController } from './catalog/tools.controller.js';
import type { RegistryConfig } from './config.js';
import { JwksController } from './events/jwks.controller.js';
import { OutboxRelay } from './events/outbox.js';
import { ImportsController } from './imports/imports.controller.js';
import { UpstreamWatchWorker } from './upstreams/upstream-watch.worker.js';
import { UpstreamService } from './upstreams/upstream.service.js';
import { UpstreamsController } from './upstreams/upstreams.controller.js';

/** The registry's parts, built from the service context (config, database, bus, logger). */
const providers: Provider[] = [
  {
    provide: TokenVerifier,
    inject: [SERVICE_CONFIG],
    useFactory: (config: RegistryConfig) => new TokenVerifier(config),
  },
  {
    provide: SecretStore,
    inject: [SERVICE_CONFIG],
    useFactory: (config: RegistryConfig) => new SecretStore(config.SECRETS_DIR),
  },
  {
    provide: OutboxRelay,
    inject: [DATA_SOURCE, MESSAGE_BUS, LOGGER, SERVICE_CONFIG],
    useFactory: (db: DataSource, bus: MessageBus, logger: Logger, config: RegistryConfig) =>
      new OutboxRelay(db, bus, logger.child({ component: 'outbox' }), config.OUTBOX_POLL_MS),
  },
  {
    provide: RegistryChangeSigner,
    inject: [SERVICE_CONFIG, LOGGER],
    useFactory: async (config: RegistryConfig, logger: Logger) => {
      if (config.REGISTRY_SIGNING_KEY_FILE)
        return RegistryChangeSigner.fromFile(
          config.REGISTRY_SIGNING_KEY_FILE,
          config.REGISTRY_VERIFICATION_KEYS_FILE,
        );
      const signer = await RegistryChangeSigner.generate();
      logger.warn(
        { kid: signer.kid },
        'REGISTRY_SIGNING_KEY_FILE is unset: change events are signed with a key made at start-up; with more than one replica, or across restarts, mount a key',
      );
      return signer;
    },
  },
  { provide: ToolStore, inject: [DATA_SOURCE], useFactory: (db: DataSource) => new ToolStore(db) },
  {
    provide: CatalogService,
    inject: [ToolStore, OutboxRelay, RegistryChangeSigner, SERVICE_CONFIG],
    useFactory: (
      store: ToolStore,
      relay: OutboxRelay,
      signer: RegistryChangeSigner,
      config: RegistryConfig,
    ) => new CatalogService(store, relay, signer, config.CREDENTIAL_ORIGINS),
  },
  {
    provide: SourceSync,
    inject: [DATA_SOURCE, ToolStore, CatalogService, OutboxRelay],
    useFactory: (db: DataSource, tools: ToolStore, catalog: CatalogService, relay: OutboxRelay) =>
      new SourceSync(db, new SourceStore(), tools, catalog, relay),
  },
  {
    provide: UpstreamService,
    inject: [DATA_SOURCE, SourceSync, SecretStore, LOGGER, OutboxRelay, SERVICE_CONFIG],
    useFactory: (
      db: DataSource,
      sync: SourceSync,
      secrets: SecretStore,
      logger: Logger,
      relay: OutboxRelay,
      config: RegistryConfig,
    ) =>
      new UpstreamService(db, sync, secrets, logger.child({ component: 'upstreams' }), relay, {
        stdioCommands: config.MCP_STDIO_COMMANDS ?? [],
        credentialOrigins: config.CREDENTIAL_ORIGINS,
        defaultScope: config.IMPORT_DEFAULT_SCOPE,
      }),
  },
  UpstreamWatchWorker,
  {
    provide: CATALOG_PAGE_LIMIT,
    inject: [SERVICE_CONFIG],
    useFactory: (config: RegistryConfig) => config.REGISTRY_PAGE_LIMIT,
  },
  AuthGuard,
];

/** The registry's root module: the catalog, imports and upstream APIs and what they stand on. */
@Module({
  controllers: [
    ToolsController,
    ImportsController,
    UpstreamsController,
    ApiDocsController,
    JwksController,
  ],
  providers,
})
export class RegistryModule {}
