import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import { databaseCheck, type DataSource } from '@toolbus/persistence';
import { AuthGuard, SecretStore, TokenVerifier } from '@toolbus/security';
import { HealthModule } from '@toolbus/service-kit';
import { ApiDocsController } from './api-docs/api-docs.controller.js';
import { CatalogService } from './catalog/catalog.service.js';
import { SourceSync } from './catalog/source-sync.js';
import { CATALOG_PAGE_LIMIT, ToolsController } from './catalog/tools.controller.js';
import type { RegistryConfig } from './config.js';
import { ImportsController } from './imports/imports.controller.js';
import { UpstreamService } from './upstreams/upstream.service.js';
import { UpstreamsController } from './upstreams/upstreams.controller.js';

export interface RegistryDeps {
  config: RegistryConfig;
  bus: MessageBus;
  db: DataSource;
  logger: Logger;
  catalog: CatalogService;
  sync: SourceSync;
  upstreams: UpstreamService;
  verifier: TokenVerifier;
  secrets: SecretStore;
}

@Module({})
export class AppModule {
  static forRoot(deps: RegistryDeps): DynamicModule {
    const providers: Provider[] = [
      { provide: CatalogService, useValue: deps.catalog },
      { provide: SourceSync, useValue: deps.sync },
      { provide: UpstreamService, useValue: deps.upstreams },
      { provide: TokenVerifier, useValue: deps.verifier },
      { provide: CATALOG_PAGE_LIMIT, useValue: deps.config.REGISTRY_PAGE_LIMIT },
      AuthGuard,
    ];
    return {
      module: AppModule,
      imports: [
        HealthModule.forRoot({
          checks: () => [
            { name: 'kafka', check: () => deps.bus.isHealthy() },
            databaseCheck(deps.db),
          ],
        }),
      ],
      controllers: [ToolsController, ImportsController, UpstreamsController, ApiDocsController],
      providers,
    };
  }
}
