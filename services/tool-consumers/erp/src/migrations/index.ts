import type { MigrationInterface } from '@toolbus/persistence';
import { CreateInventory1732579200000 } from './1732579200000-create-inventory.js';
import { SeedInventory1732579260000 } from './1732579260000-seed-inventory.js';

export { SEED_INVENTORY, SEED_PRODUCTS } from './1732579260000-seed-inventory.js';

/** The ERP's migrations in order; the SDK applies its dedup table before them. */
export const erpMigrations: Array<new () => MigrationInterface> = [
  CreateInventory1732579200000,
  SeedInventory1732579260000,
];
