import { toolConsumer } from '@toolbus/tool-sdk';
import { crmOwnConfig } from './config.js';
import { crmMigrations } from './migrations/index.js';
import { crmTools } from './tools/index.js';

/**
 * The CRM tool consumer named `service`: its topic is `tool_requests.<service>` and its call
 * grants must be addressed to `service`. Another name runs a second CRM beside the first on
 * one Kafka (another region's, or a test platform's) without sharing its partitions.
 */
export function crmConsumer(service = 'crm') {
  return toolConsumer({
    service,
    // Built from the validated config (CRM_MAX_CREDIT_LIMIT), checked with the SDK's variables.
    tools: ({ config }) => crmTools(config),
    migrations: crmMigrations,
    config: crmOwnConfig,
  });
}

/** The CRM tool consumer: customers and credit limits on its own PostgreSQL schema. */
export const crmService = crmConsumer();
