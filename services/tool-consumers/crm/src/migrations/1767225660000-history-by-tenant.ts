import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/**
 * Idempotency keys are the tenant's (the SDK's dedup table is keyed by tenant and key), so the
 * history's own guard against a second row for one call must be too: without the tenant,
 * another tenant reusing a key would be refused by this index instead of getting its own
 * execution. Rows written before record no tenant and get '', which no tenant id is.
 */
export class HistoryByTenant1767225660000 implements MigrationInterface {
  name = 'HistoryByTenant1767225660000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_history ADD COLUMN tenant text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE account_history ALTER COLUMN tenant DROP DEFAULT`);
    await q.query('DROP INDEX account_history_idempotency');
    await q.query(
      `CREATE UNIQUE INDEX account_history_idempotency ON account_history (tenant, idempotency_key, field)
       WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX account_history_idempotency');
    await q.query(
      `CREATE UNIQUE INDEX account_history_idempotency ON account_history (idempotency_key, field)
       WHERE idempotency_key IS NOT NULL`,
    );
    await q.query('ALTER TABLE account_history DROP COLUMN tenant');
  }
}
