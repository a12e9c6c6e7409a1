import { CreateAuditLedger1767312000000 } from './1767312000000-create-audit-ledger.js';

/** The orchestrator's schema, oldest first. */
export const orchestratorMigrations = [CreateAuditLedger1767312000000];
