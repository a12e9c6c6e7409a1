import type { Logger } from '@toolbus/observability';
import { RegistryView, registryViewConfig } from '@toolbus/registry-client';
import { type ConfigOf, type ConfigSpec, type ServiceDefinition } from '@toolbus/service-kit';
import type { toolConsumerConfig } from './config.js';
import { toolConsumer } from './consumer.js';
import type { ToolProvider } from './json-schema-tool.js';

/**
 * The variables every catalog-driven consumer has besides the SDK's: the registry view's.
 * REGISTRY_URL is required here: the tools come from the catalog.
 */
export const catalogConsumerConfig = registryViewConfig;

export type CatalogConsumerConfig = ConfigOf<
  typeof toolConsumerConfig & typeof catalogConsumerConfig
>;

/** What a catalog-driven consumer serves, and what to close after it drained. */
export interface CatalogTools {
  provider: ToolProvider;
  close?(): void | Promise<void>;
}

export interface CatalogToolConsumerOptions<S extends ConfigSpec> {
  /** Service name: the topic is `tool_requests.<service>`. */
  service: string;
  /** The consumer's own variables, validated with the SDK's and {@link catalogConsumerConfig}. */
  config: S;
  /** Builds the served tools once the catalog view is filled. */
  tools(context: {
    view: RegistryView;
    config: CatalogConsumerConfig & ConfigOf<S>;
    logger: Logger;
  }): CatalogTools;
}

/**
 * A consumer whose tools come from the registry's catalog (the generic executors): the
 * catalog view is filled before the first call is taken (so no call is answered "unknown
 * tool" while it loads), and on shutdown the consumer drains before the tools and then the
 * view close. With `--migrate-only` it applies the migrations without reaching the registry
 * (the chart's Job runs before the registry exists on a fresh install).
 */
export function catalogToolConsumer<S extends ConfigSpec>(
  options: CatalogToolConsumerOptions<S>,
): ServiceDefinition<typeof toolConsumerConfig & typeof catalogConsumerConfig & S> {
  return toolConsumer({
    service: options.service,
    config: { ...catalogConsumerConfig, ...options.config },
    tools: async (context) => {
      const { bus, logger, onStop } = context;
      const config = context.config as unknown as CatalogConsumerConfig & ConfigOf<S>;
      const view = await RegistryView.start({
        registryUrl: config.REGISTRY_URL,
        token: config.REGISTRY_TOKEN,
        bus,
        service: options.service,
        logger,
        snapshotTimeoutMs: config.REGISTRY_SNAPSHOT_TIMEOUT_MS,
        jwksUrl: config.REGISTRY_JWKS_URL,
        jwksFile: config.REGISTRY_JWKS_FILE,
      });
      onStop('catalog view', () => view.close());
      const served = options.tools({
        view,
        config,
        logger,
      });
      if (served.close) onStop('catalog tools', () => served.close!());
      logger.info({ tools: served.provider.list().length }, 'serving the catalog’s tools');
      return served.provider;
    },
  });
}
