import { toolConsumer } from '@toolbus/tool-sdk';
import { erpMigrations } from './migrations/index.js';
import { erpTools } from './tools/index.js';

/** The ERP tool consumer: inventory and stock reservations on its own PostgreSQL schema. */
export const erpService = toolConsumer({
  service: 'erp',
  tools: erpTools,
  migrations: erpMigrations,
});
