import { Module, type DynamicModule } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import { ConfigError, LOGGER, SERVICE_CONFIG } from '@toolbus/service-kit';
import type { ModelShimConfig } from '../config.js';
import { AnthropicProvider } from '../providers/anthropic.provider.js';
import type { ModelProvider } from '../providers/model-provider.js';
import { OfflineProvider } from '../providers/offline.provider.js';
import { OpenAiProvider } from '../providers/openai.provider.js';
import { RouteTable } from '../routing/route-table.js';
import { CompletionConsumer } from './completion.consumer.js';
import { CompletionService } from './completion.service.js';
import { ProviderBreakers } from './provider-breakers.js';
import { BusUsageSink } from './usage-recorder.js';

/** The providers the configuration enables, by route name. */
export function providersFromConfig(config: ModelShimConfig): Map<string, ModelProvider> {
  const providers = new Map<string, ModelProvider>([['offline', new OfflineProvider()]]);
  if (config.ANTHROPIC_API_KEY) {
    providers.set(
      'anthropic',
      new AnthropicProvider({
        apiKey: config.ANTHROPIC_API_KEY,
        baseURL: config.ANTHROPIC_BASE_URL,
        streamAboveTokens: config.MODEL_STREAM_ABOVE_TOKENS,
      }),
    );
  }
  if (config.OPENAI_BASE_URL) {
    providers.set(
      config.OPENAI_PROVIDER_NAME,
      new OpenAiProvider({
        name: config.OPENAI_PROVIDER_NAME,
        baseURL: config.OPENAI_BASE_URL,
        apiKey: config.OPENAI_API_KEY,
        tokenize: config.OPENAI_TOKENIZE,
        streamAboveTokens: config.MODEL_STREAM_ABOVE_TOKENS,
      }),
    );
  }
  return providers;
}

/** Enabled providers and the route table; a bad MODEL_ROUTES stops the service naming the variable. */
export function routingFromConfig(
  config: ModelShimConfig,
  providers = providersFromConfig(config),
): { providers: Map<string, ModelProvider>; routes: RouteTable } {
  try {
    return { providers, routes: RouteTable.parse(config.MODEL_ROUTES, [...providers.keys()]) };
  } catch (error) {
    throw new ConfigError([{ variable: 'MODEL_ROUTES', message: (error as Error).message }]);
  }
}

/** The completion consumer and service over the enabled providers and routes. */
@Module({})
export class CompletionModule {
  static forRouting(routing: {
    providers: Map<string, ModelProvider>;
    routes: RouteTable;
  }): DynamicModule {
    const { providers, routes } = routing;
    return {
      module: CompletionModule,
      controllers: [CompletionConsumer],
      providers: [
        {
          provide: CompletionService,
          inject: [MESSAGE_BUS, SERVICE_CONFIG, LOGGER],
          useFactory: (bus: MessageBus, config: ModelShimConfig, logger: Logger) => {
            const usage = new BusUsageSink(bus, logger);
            return new CompletionService({
              providers,
              routes,
              prices: config.MODEL_PRICES,
              retry: {
                attempts: config.MODEL_RETRY_ATTEMPTS,
                baseDelayMs: config.MODEL_RETRY_BASE_MS,
                maxDelayMs: config.MODEL_RETRY_MAX_MS,
                attemptTimeoutMs: config.MODEL_ATTEMPT_TIMEOUT_MS,
              },
              breakers: new ProviderBreakers({
                failures: config.BREAKER_FAILURES,
                halfOpenAfterMs: config.BREAKER_HALF_OPEN_MS,
                onStateChange: (p, s) => usage.breakerState(p, s),
              }),
              usage,
              logger,
            });
          },
        },
      ],
    };
  }
}
