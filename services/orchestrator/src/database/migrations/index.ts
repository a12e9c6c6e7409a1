import { CreateAuditLedger1767312000000 } from './1767312000000-create-audit-ledger.js';
import { CreateUsageLedger1767398400000 } from './1767398400000-create-usage-ledger.js';

/** The orchestrator's schema, oldest first. */
export const orchestratorMigrations = [
  CreateAuditLedger1767312000000,
  CreateUsageLedger1767398400000,
];
