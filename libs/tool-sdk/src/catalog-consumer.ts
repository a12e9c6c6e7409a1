import { platformTopics } from '@toolbus/contracts';
import { createLogger, type Logger } from '@toolbus/observability';
import { RegistryView } from '@toolbus/registry-client';
import {
  busFromConfig,
  env,
  loadConfig,
  type ConfigOf,
  type ConfigSpec,
} from '@toolbus/service-kit';
import { toolConsumerConfig } from './config.js';
import { runToolConsumer, type RunningToolConsumer } from './consumer.js';
import type { ToolProvider } from './json-schema-tool.js';

/** The variables every catalog-driven consumer has besides the SDK's. */
export const catalogConsumerConfig = {
  REGISTRY_URL: {
    schema: env.url(),
    description:
      'Registry base URL: the catalog snapshot at start-up, then toolbus.registry.changes keeps it current. Required: the tools come from the catalog',
  },
  REGISTRY_SNAPSHOT_TIMEOUT_MS: {
    schema: env.int(100, 600_000),
    default: '10000',
    description: 'Give up starting when the registry snapshot takes longer than this',
  },
} satisfies ConfigSpec;

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
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a consumer whose tools come from the registry's catalog (the generic executors): one
 * bus for the catalog view and the tool calls, the view filled before the first call is taken
 * (so no call is answered "unknown tool" while it loads), and on SIGTERM the consumer drained
 * before the tools, the view and the bus close (exit 0, or 1 when closing failed). With
 * `--migrate-only` it applies the migrations without reaching the registry (the chart's Job
 * runs before the registry exists on a fresh install).
 */
export async function runCatalogToolConsumer<S extends ConfigSpec>(
  options: CatalogToolConsumerOptions<S>,
): Promise<void> {
  const ownConfig = { ...catalogConsumerConfig, ...options.config };
  const environment = options.env ?? process.env;
  if (process.argv.includes('--migrate-only')) {
    await runToolConsumer({
      service: options.service,
      tools: [],
      config: ownConfig,
      env: environment,
    });
    return;
  }
  const config = loadConfig(
    { ...toolConsumerConfig, ...ownConfig },
    environment,
  ) as CatalogConsumerConfig & ConfigOf<S>;
  const logger = createLogger({ name: options.service, level: config.LOG_LEVEL });
  const bus = busFromConfig(options.service, config, logger);
  await bus.ensureTopics(platformTopics([options.service]));
  const view = await RegistryView.start({
    registryUrl: config.REGISTRY_URL,
    token: config.REGISTRY_TOKEN,
    bus,
    service: options.service,
    logger,
    snapshotTimeoutMs: config.REGISTRY_SNAPSHOT_TIMEOUT_MS,
  });
  const served = options.tools({ view, config, logger });
  const closeRest = async () => {
    await served.close?.();
    await view.close();
    await bus.close(config.SHUTDOWN_DEADLINE_MS);
  };
  let consumer: RunningToolConsumer;
  try {
    consumer = await runToolConsumer({
      service: options.service,
      tools: served.provider,
      config: ownConfig,
      env: environment,
      bus,
      logger,
      handleSignals: false,
    });
  } catch (error) {
    await closeRest();
    throw error;
  }
  logger.info({ tools: served.provider.list().length }, 'serving the catalog’s tools');
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${options.service} shutting down`);
    (async () => {
      await consumer.close();
      await closeRest();
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
