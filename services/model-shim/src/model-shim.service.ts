import { Topics } from '@toolbus/contracts';
import { defineService } from '@toolbus/service-kit';
import { CompletionModule, routingFromConfig } from './completion/completion.module.js';
import { modelShimConfig } from './config.js';

/**
 * The model shim: answers `toolbus.model.requests` through the configured providers (a bad
 * MODEL_ROUTES stops it at start-up, naming the variable).
 */
export const modelShimService = defineService({
  name: 'model-shim',
  config: modelShimConfig,
  concurrency: (config) => ({ [Topics.modelRequests]: config.MODEL_CONCURRENCY }),
  module: ({ config }) => CompletionModule.forRouting(routingFromConfig(config)),
});
