import './tracing.js';
import { runMain } from '@toolbus/service-kit';
import { runToolConsumer } from '@toolbus/tool-sdk';
import { crmConfig, type CrmConfig } from './config.js';
import { crmMigrations } from './migrations/index.js';
import { crmTools } from './tools/index.js';

async function main(): Promise<void> {
  // The tools are built from the validated config (CRM_MAX_CREDIT_LIMIT), which
  // runToolConsumer checks together with its own variables, naming every bad one at once.
  await runToolConsumer({
    service: 'crm',
    tools: (config) => crmTools(config as unknown as CrmConfig),
    migrations: crmMigrations,
    config: crmConfig,
  });
}

runMain('crm', main);
