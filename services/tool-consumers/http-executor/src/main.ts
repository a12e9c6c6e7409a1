import './tracing.js';
import { platformTopics } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { RegistryView } from '@toolbus/registry-client';
import { SecretStore } from '@toolbus/security';
import { busFromConfig, runMain } from '@toolbus/service-kit';
import { runToolConsumer } from '@toolbus/tool-sdk';
import { HttpToolProvider } from './catalog/http-tool-provider.js';
import { httpExecutorConfig, loadHttpExecutorConfig } from './config.js';
import { HttpToolExecutor } from './executor/http-tool-executor.js';

const SERVICE = 'http-executor';

async function main(): Promise<void> {
  // Validated here as well as by runToolConsumer: the catalog is needed before the consumer
  // starts, and REGISTRY_URL (optional for the SDK) is required here, so a missing one stops
  // the process with a message naming it.
  const config = loadHttpExecutorConfig();
  const logger = createLogger({ name: SERVICE, level: config.LOG_LEVEL });

  if (process.argv.includes('--migrate-only')) {
    // The chart's migration Job runs before the registry exists on a fresh install: applying
    // the SDK's migrations must not need the catalog. runToolConsumer migrates and exits.
    await runToolConsumer({ service: SERVICE, tools: [], config: httpExecutorConfig, logger });
    return;
  }

  // One bus for the catalog and the tool calls. The view is filled before the consumer takes
  // its first call, so no call is answered "unknown tool" while the catalog is still loading.
  // The bus is ours, not the SDK's, so shutting down (below) closes it after the consumer.
  const bus = busFromConfig(SERVICE, config, logger);
  await bus.ensureTopics(platformTopics([SERVICE]));
  const view = await RegistryView.start({
    registryUrl: config.REGISTRY_URL,
    token: config.REGISTRY_TOKEN,
    bus,
    service: SERVICE,
    logger,
  });
  const executor = new HttpToolExecutor({
    secrets: new SecretStore(config.SECRETS_DIR),
    retryAttempts: config.HTTP_RETRY_ATTEMPTS,
    retryBaseMs: config.HTTP_RETRY_BASE_MS,
    maxResponseBytes: config.HTTP_MAX_RESPONSE_BYTES,
    logger,
  });
  const provider = new HttpToolProvider(view, executor, logger);
  const consumer = await runToolConsumer({
    service: SERVICE,
    tools: provider,
    config: httpExecutorConfig,
    bus,
    logger,
    handleSignals: false,
  });
  // Builds every tool now, so a definition that cannot run is logged at start-up.
  logger.info({ tools: provider.list().length }, 'serving the HTTP-bound tools of the catalog');

  // As the SDK does for its own bus: drain in-flight calls, then close what we opened; exit 0
  // when that worked, 1 when it did not.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${SERVICE} shutting down`);
    const close = async () => {
      await consumer.close();
      provider.close();
      await view.close();
      await bus.close(config.SHUTDOWN_DEADLINE_MS);
    };
    close().then(
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

runMain(SERVICE, main);
