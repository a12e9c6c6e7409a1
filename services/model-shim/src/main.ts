import './tracing.js';
import { createLogger } from '@toolbus/observability';
import { busFromConfig, runMain, startService } from '@toolbus/service-kit';
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

runMain('model-shim', main);
