import type { MigrationInterface } from '@toolbus/persistence';
import { CreateAccounts1732579200000 } from './1732579200000-create-accounts.js';
import { SeedAccounts1732579260000 } from './1732579260000-seed-accounts.js';
import { HistoryByTenant1767225660000 } from './1767225660000-history-by-tenant.js';

export { SEED_ACCOUNTS } from './1732579260000-seed-accounts.js';

/** The CRM's migrations in order; the SDK applies its dedup table before them. */
export const crmMigrations: Array<new () => MigrationInterface> = [
  CreateAccounts1732579200000,
  SeedAccounts1732579260000,
  HistoryByTenant1767225660000,
];
