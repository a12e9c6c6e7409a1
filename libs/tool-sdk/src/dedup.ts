import type { Principal } from '@toolbus/contracts';
import { inputHash } from '@toolbus/security';
import {
  rowsOf,
  type DataSource,
  type EntityManager,
  type MigrationInterface,
  type QueryRunner,
} from '@toolbus/persistence';

/** The SDK's own table, created in the consumer's schema by this migration. */
export class CreateToolCallDedup1732406400000 implements MigrationInterface {
  name = 'CreateToolCallDedup1732406400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tool_call_dedup (
        idempotency_key text PRIMARY KEY,
        tool text NOT NULL,
        input_hash text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        result jsonb,
        error jsonb,
        owner text NOT NULL,
        lease_until timestamptz NOT NULL,
        attempts int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX tool_call_dedup_running ON tool_call_dedup (lease_until) WHERE status = 'running'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tool_call_dedup');
  }
}

/**
 * Idempotency keys become the tenant's: the primary key is (tenant, idempotency_key), so one
 * tenant reusing another's key gets its own execution, never the other's result. Rows written
 * before it record no tenant; they get '' (no tenant id is empty), so they answer no new call
 * and the retention job removes them. The stored hash of new rows covers the principal too
 * (an old row's hash is of the input alone, another reason it can match nothing new). The
 * partial index serves the retention job.
 */
export class ScopeToolCallDedupByTenant1767225600000 implements MigrationInterface {
  name = 'ScopeToolCallDedupByTenant1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tool_call_dedup ADD COLUMN tenant text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE tool_call_dedup ALTER COLUMN tenant DROP DEFAULT`);
    await q.query(`ALTER TABLE tool_call_dedup DROP CONSTRAINT tool_call_dedup_pkey`);
    await q.query(`ALTER TABLE tool_call_dedup ADD PRIMARY KEY (tenant, idempotency_key)`);
    await q.query(
      `CREATE INDEX tool_call_dedup_finished ON tool_call_dedup (updated_at) WHERE status <> 'running'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX tool_call_dedup_finished');
    await q.query(`ALTER TABLE tool_call_dedup DROP CONSTRAINT tool_call_dedup_pkey`);
    // One key may now belong to several tenants; the unscoped table keeps the oldest row.
    await q.query(
      `DELETE FROM tool_call_dedup d USING tool_call_dedup o
       WHERE d.idempotency_key = o.idempotency_key AND (d.created_at, d.tenant) > (o.created_at, o.tenant)`,
    );
    await q.query(`ALTER TABLE tool_call_dedup ADD PRIMARY KEY (idempotency_key)`);
    await q.query(`ALTER TABLE tool_call_dedup DROP COLUMN tenant`);
  }
}

/** The SDK's migrations, in order: every tool consumer's database applies them first. */
export const toolSdkMigrations = [
  CreateToolCallDedup1732406400000,
  ScopeToolCallDedupByTenant1767225600000,
];

export type Claim =
  | { kind: 'owned' }
  | { kind: 'done'; status: 'completed' | 'failed'; result: unknown; error: unknown }
  | { kind: 'busy'; leaseUntil: number }
  | { kind: 'conflict'; tool: string };

interface Row {
  tool: string;
  input_hash: string;
  status: 'running' | 'completed' | 'failed';
  result: unknown;
  error: unknown;
  lease_until: Date | string;
}

/** Whose key it is: idempotency keys are scoped by tenant. */
export interface DedupKey {
  tenant: string;
  key: string;
}

/**
 * What a key is bound to: the tool, the principal (subject and kind) and the input. A repeat
 * must match it to get the stored outcome.
 */
export function dedupHash(
  tool: string,
  principal: Pick<Principal, 'subject' | 'kind'>,
  input: unknown,
): string {
  return inputHash({
    tool,
    principal: { subject: principal.subject, kind: principal.kind },
    input,
  });
}

const SELECT_ROW = `SELECT tool, input_hash, status, result, error, lease_until FROM tool_call_dedup
  WHERE tenant = $1 AND idempotency_key = $2`;

/**
 * Dedup by tenant and idempotency key. A call is claimed with a lease; the claim holder runs the
 * handler and marks the row completed (inside the tool's own transaction when it has one). A
 * repeat finds the stored outcome; a call still running elsewhere waits for it; a claim whose
 * holder died is taken over when its lease runs out. Completion checks ownership, so a holder
 * that lost its lease can never commit a second effect. Another tenant's use of the same key is
 * another call; the stored hash covers the tool, the principal and the input, so a key reused
 * by another principal of the tenant, or for other input, is a conflict.
 */
export class DedupStore {
  constructor(private readonly ds: DataSource) {}

  async claim(
    { tenant, key }: DedupKey,
    tool: string,
    callHash: string,
    owner: string,
    leaseMs: number,
  ): Promise<Claim> {
    const inserted: unknown[] = await this.ds.query(
      `INSERT INTO tool_call_dedup (tenant, idempotency_key, tool, input_hash, status, owner, lease_until)
       VALUES ($1, $2, $3, $4, 'running', $5, now() + make_interval(secs => $6::double precision / 1000))
       ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING idempotency_key`,
      [tenant, key, tool, callHash, owner, leaseMs],
    );
    if (inserted.length > 0) return { kind: 'owned' };
    const rows: Row[] = await this.ds.query(SELECT_ROW, [tenant, key]);
    const row = rows[0];
    // Released between the two statements: claim again.
    if (!row) return this.claim({ tenant, key }, tool, callHash, owner, leaseMs);
    if (row.tool !== tool || row.input_hash !== callHash)
      return { kind: 'conflict', tool: row.tool };
    if (row.status !== 'running')
      return { kind: 'done', status: row.status, result: row.result, error: row.error };
    // UPDATE ... RETURNING answers [rows, count] (rowsOf): the count is not a row taken.
    const taken: unknown = await this.ds.query(
      `UPDATE tool_call_dedup SET owner = $3, lease_until = now() + make_interval(secs => $4::double precision / 1000),
         attempts = attempts + 1, updated_at = now()
       WHERE tenant = $1 AND idempotency_key = $2 AND status = 'running' AND lease_until < now()
       RETURNING idempotency_key`,
      [tenant, key, owner, leaseMs],
    );
    if (rowsOf(taken).length > 0) return { kind: 'owned' };
    return { kind: 'busy', leaseUntil: new Date(row.lease_until).getTime() };
  }

  /** The stored outcome of a finished call of this very caller and input, claiming nothing. */
  async peek(
    { tenant, key }: DedupKey,
    callHash: string,
  ): Promise<Extract<Claim, { kind: 'done' }> | undefined> {
    const rows: Row[] = await this.ds.query(SELECT_ROW, [tenant, key]);
    const row = rows[0];
    return row && row.status !== 'running' && row.input_hash === callHash
      ? { kind: 'done', status: row.status, result: row.result, error: row.error }
      : undefined;
  }

  /** Marks the call finished; false when this owner no longer holds the claim. */
  async finish(
    em: EntityManager | DataSource,
    { tenant, key }: DedupKey,
    owner: string,
    status: 'completed' | 'failed',
    result: unknown,
    error?: unknown,
  ): Promise<boolean> {
    const updated: unknown = await em.query(
      `UPDATE tool_call_dedup SET status = $4, result = $5::jsonb, error = $6::jsonb, updated_at = now()
       WHERE tenant = $1 AND idempotency_key = $2 AND owner = $3 AND status = 'running'
       RETURNING idempotency_key`,
      [tenant, key, owner, status, JSON.stringify(result ?? null), JSON.stringify(error ?? null)],
    );
    return rowsOf(updated).length > 0;
  }

  /** Gives a claim up after a retryable failure, so a retry can run the handler. */
  async release({ tenant, key }: DedupKey, owner: string): Promise<void> {
    await this.ds.query(
      `DELETE FROM tool_call_dedup
       WHERE tenant = $1 AND idempotency_key = $2 AND owner = $3 AND status = 'running'`,
      [tenant, key, owner],
    );
  }

  async extend({ tenant, key }: DedupKey, owner: string, leaseMs: number): Promise<void> {
    await this.ds.query(
      `UPDATE tool_call_dedup SET lease_until = now() + make_interval(secs => $4::double precision / 1000)
       WHERE tenant = $1 AND idempotency_key = $2 AND owner = $3 AND status = 'running'`,
      [tenant, key, owner, leaseMs],
    );
  }
}
