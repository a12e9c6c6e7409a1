import { platformTopics, Topics } from '@toolbus/contracts';
import { defineService } from '@toolbus/service-kit';
import { orchestratorConfig, type OrchestratorConfig } from './config.js';
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
  bodyLimit: invocationBodyLimit,
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

/** What a direct call may carry besides its arguments: the principal, its assertion, the ids. */
const INVOCATION_ENVELOPE_BYTES = 64 * 1024;

/**
 * The largest HTTP body taken (the invoke route is the only one with a body): the arguments'
 * limit and the envelope. Arguments past their limit but within this are refused by the policy
 * chain, naming the limit; a body past this is refused with 413 before it is parsed.
 */
export function invocationBodyLimit(config: Pick<OrchestratorConfig, 'MAX_TOOL_ARGUMENTS_BYTES'>) {
  return config.MAX_TOOL_ARGUMENTS_BYTES + INVOCATION_ENVELOPE_BYTES;
}
