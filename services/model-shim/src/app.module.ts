import { Module, type DynamicModule } from '@nestjs/common';
import { platformTopics } from '@toolbus/contracts';
import { MessagingModule, type MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import { HealthModule } from '@toolbus/service-kit';
import { CompletionModule } from './completion/completion.module.js';
import type { ModelShimConfig } from './config.js';
import type { RouteTable } from './routing/route-table.js';
import type { ModelProvider } from './providers/model-provider.js';

@Module({})
export class AppModule {
  static forRoot(
    config: ModelShimConfig,
    bus: MessageBus,
    logger: Logger,
    routing: { providers: Map<string, ModelProvider>; routes: RouteTable },
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MessagingModule.forRoot({
          useFactory: () => bus,
          shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
        }),
        HealthModule.forRoot({ checks: () => [{ name: 'bus', check: () => bus.isHealthy() }] }),
        CompletionModule.forRoot(config, logger, routing),
      ],
    };
  }
}

/** Topics the model shim reads and writes; created at start-up when missing. */
export const modelShimTopics = () => platformTopics();
