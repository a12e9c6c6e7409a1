import './tracing.js';
import { runMain } from '@toolbus/service-kit';
import { runToolConsumer } from '@toolbus/tool-sdk';
import { erpConfig } from './config.js';
import { erpMigrations } from './migrations/index.js';
import { erpTools } from './tools/index.js';

async function main(): Promise<void> {
  await runToolConsumer({
    service: 'erp',
    tools: erpTools,
    migrations: erpMigrations,
    config: erpConfig,
  });
}

runMain('erp', main);
