import { toolConsumer } from '@toolbus/tool-sdk';
import { crmOwnConfig } from './config.js';
import { crmMigrations } from './migrations/index.js';
import { crmTools } from './tools/index.js';

/** The CRM tool consumer: customers and credit limits on its own PostgreSQL schema. */
export const crmService = toolConsumer({
  service: 'crm',
  // Built from the validated config (CRM_MAX_CREDIT_LIMIT), checked with the SDK's variables.
  tools: ({ config }) => crmTools(config),
  migrations: crmMigrations,
  config: crmOwnConfig,
});
