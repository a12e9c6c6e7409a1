import './tracing.js';
import { createLogger } from '@toolbus/observability';
import { busFromConfig, ConfigError, startService } from '@toolbus/service-kit';
import { Topics } from '@toolbus/contracts';
import { AppModule, modelShimTopics } from './app.module.js';
import { routingFromConfig } from './completion/completion.module.js';
import { loadModelShimConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadModelShimConfig();
  const routing = routingFromConfig(config);
  const logger = createLogger({ name: 'model-shim', level: config.LOG_LEVEL });
  const bus = busFromConfig('model-shim', config, logger);
  await bus.ensureTopics(modelShimTopics());
  await startService({
    name: 'model-shim',
    module: AppModule.forRoot(config, bus, logger, routing),
    logger,
    host: config.HOST,
    port: config.PORT,
    bus,
    concurrency: { [Topics.modelRequests]: config.MODEL_CONCURRENCY },
    shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
  });
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say exactly what, without a stack.
  if (error instanceof ConfigError) process.stderr.write(`model-shim: ${error.message}\n`);
  else
    process.stderr.write(
      `model-shim failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
