import { platformTopics, Topics } from '@toolbus/contracts';
import { defineService } from '@toolbus/service-kit';
import { orchestratorConfig } from './config.js';
import { orchestratorMigrations } from './database/migrations/index.js';
import { orchestratorModule, storesOf } from './orchestrator.module.js';

/**
 * The orchestrator: the agent loop over `toolbus.ask.requests`, direct tool invocations over
 * `toolbus.invoke.requests` and internal HTTP, and the one policy chain every tool call of the
 * platform passes. Any number of replicas; what they share is in Redis.
 */
export const orchestratorService = defineService({
  name: 'orchestrator',
  config: orchestratorConfig,
  database: (config) => ({ schema: config.DATABASE_SCHEMA, migrations: orchestratorMigrations }),
  topics: () => platformTopics(),
  concurrency: (config) => ({
    [Topics.askRequests]: config.ASK_CONCURRENCY,
    [Topics.invokeRequests]: config.INVOKE_CONCURRENCY,
  }),
  module: orchestratorModule,
  readiness: (context) => {
    const store = storesOf.get(context);
    return store
      ? [{ name: store.kind === 'redis' ? 'redis' : 'state', check: () => store.isHealthy() }]
      : [];
  },
});
