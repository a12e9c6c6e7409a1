import { openDatabase } from '@toolbus/persistence';
import { orchestratorMigrations } from '../../src/database/migrations/index.js';
import { ledgerStoreContract } from './ledger-store.contract.js';

// The embedded mode's database, in this process: no infrastructure needed.
ledgerStoreContract('PGlite', async () => {
  const db = await openDatabase({
    url: 'pglite://memory',
    schema: 'orchestrator',
    migrations: orchestratorMigrations,
  });
  return { db, close: () => db.destroy() };
});
