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

/**
 * Dedup by idempotency key. A call is claimed with a lease; the claim holder runs the handler
 * and marks the row completed (inside the tool's own transaction when it has one). A repeat
 * finds the stored outcome; a call still running elsewhere waits for it; a claim whose holder
 * died is taken over when its lease runs out. Completion checks ownership, so a holder that
 * lost its lease can never commit a second effect.
 */
export class DedupStore {
  constructor(private readonly ds: DataSource) {}

  async claim(
    key: string,
    tool: string,
    inputHash: string,
    owner: string,
    leaseMs: number,
  ): Promise<Claim> {
    const inserted: unknown[] = await this.ds.query(
      `INSERT INTO tool_call_dedup (idempotency_key, tool, input_hash, status, owner, lease_until)
       VALUES ($1, $2, $3, 'running', $4, now() + make_interval(secs => $5::double precision / 1000))
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`,
      [key, tool, inputHash, owner, leaseMs],
    );
    if (inserted.length > 0) return { kind: 'owned' };
    const rows: Row[] = await this.ds.query(
      `SELECT tool, input_hash, status, result, error, lease_until FROM tool_call_dedup WHERE idempotency_key = $1`,
      [key],
    );
    const row = rows[0];
    if (!row) return this.claim(key, tool, inputHash, owner, leaseMs); // released between the two statements
    if (row.tool !== tool || row.input_hash !== inputHash)
      return { kind: 'conflict', tool: row.tool };
    if (row.status !== 'running')
      return { kind: 'done', status: row.status, result: row.result, error: row.error };
    const taken: unknown[] = await this.ds.query(
      `UPDATE tool_call_dedup SET owner = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000),
         attempts = attempts + 1, updated_at = now()
       WHERE idempotency_key = $1 AND status = 'running' AND lease_until < now() RETURNING idempotency_key`,
      [key, owner, leaseMs],
    );
    if (taken.length > 0) return { kind: 'owned' };
    return { kind: 'busy', leaseUntil: new Date(row.lease_until).getTime() };
  }

  /** The stored outcome of a finished call, without claiming anything. */
  async peek(key: string): Promise<Extract<Claim, { kind: 'done' }> | undefined> {
    const rows: Row[] = await this.ds.query(
      `SELECT tool, input_hash, status, result, error, lease_until FROM tool_call_dedup WHERE idempotency_key = $1`,
      [key],
    );
    const row = rows[0];
    return row && row.status !== 'running'
      ? { kind: 'done', status: row.status, result: row.result, error: row.error }
      : undefined;
  }

  /** Marks the call finished; false when this owner no longer holds the claim. */
  async finish(
    em: EntityManager | DataSource,
    key: string,
    owner: string,
    status: 'completed' | 'failed',
    result: unknown,
    error?: unknown,
  ): Promise<boolean> {
    const updated: unknown = await em.query(
      `UPDATE tool_call_dedup SET status = $3, result = $4::jsonb, error = $5::jsonb, updated_at = now()
       WHERE idempotency_key = $1 AND owner = $2 AND status = 'running' RETURNING idempotency_key`,
      [key, owner, status, JSON.stringify(result ?? null), JSON.stringify(error ?? null)],
    );
    return rowsOf(updated).length > 0;
  }

  /** Gives a claim up after a retryable failure, so a retry can run the handler. */
  async release(key: string, owner: string): Promise<void> {
    await this.ds.query(
      `DELETE FROM tool_call_dedup WHERE idempotency_key = $1 AND owner = $2 AND status = 'running'`,
      [key, owner],
    );
  }

  async extend(key: string, owner: string, leaseMs: number): Promise<void> {
    await this.ds.query(
      `UPDATE tool_call_dedup SET lease_until = now() + make_interval(secs => $3::double precision / 1000) WHERE idempotency_key = $1 AND owner = $2 AND status = 'running'`,
      [key, owner, leaseMs],
    );
  }
}
