import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

const GENESIS = '0'.repeat(64);

/**
 * The audit ledger: one row per audit event, hash-chained, its sensitive fields sealed. The
 * rules that make it a ledger are held by the database itself, so no code path (a bug, a
 * replica of another version, a console with the application's role) can bend them:
 *
 * - **append-only**: UPDATE, DELETE and TRUNCATE of `audit_ledger` are refused. Only the
 *   table's owner can switch the trigger off, and what it then changes `toolbus audit verify`
 *   finds, since every row's hash covers every stored column and the next row's hash.
 * - **chained**: a row is accepted only as the successor of the head (`sequence` one more, its
 *   `prev_hash` the head's hash), and accepting it is what moves the head; the head moves in
 *   no other way. So rows are appended one after another however many replicas write: each
 *   append locks the head row first, in the same transaction.
 * - **one row per event**: `event_id` is unique, so a redelivered event is never a second row.
 */
export class CreateAuditLedger1767312000000 implements MigrationInterface {
  name = 'CreateAuditLedger1767312000000';

  async up(q: QueryRunner): Promise<void> {
    // The newest row's place and hash (sequence 0: the ledger is empty).
    await q.query(`
      CREATE TABLE audit_chain_head (
        id smallint PRIMARY KEY CONSTRAINT audit_chain_head_one CHECK (id = 1),
        sequence bigint NOT NULL CONSTRAINT audit_chain_head_sequence CHECK (sequence >= 0),
        hash text NOT NULL CONSTRAINT audit_chain_head_hash CHECK (hash ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`INSERT INTO audit_chain_head (id, sequence, hash) VALUES (1, 0, '${GENESIS}')`);
    // Plaintext columns are what the read API filters on and what a reader must always see;
    // the caller's display name, the reason, the details and the arguments are in `sealed`.
    await q.query(`
      CREATE TABLE audit_ledger (
        sequence bigint PRIMARY KEY CONSTRAINT audit_ledger_sequence CHECK (sequence > 0),
        event_id uuid NOT NULL CONSTRAINT audit_ledger_event UNIQUE,
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        source text NOT NULL,
        tenant text NOT NULL,
        actor_subject text NOT NULL,
        actor_kind text NOT NULL,
        action text NOT NULL,
        resource_kind text NOT NULL,
        resource_id text NOT NULL,
        tool text,
        outcome text NOT NULL,
        decision text NOT NULL
          CONSTRAINT audit_ledger_decision CHECK (decision IN ('allowed', 'refused', 'held')),
        region text,
        context_id text,
        trace_id text,
        latency_ms double precision,
        input_tokens integer,
        output_tokens integer,
        cost_usd double precision,
        hash_before text,
        hash_after text,
        key_id text NOT NULL,
        sealed text NOT NULL,
        prev_hash text NOT NULL CONSTRAINT audit_ledger_prev_hash CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CONSTRAINT audit_ledger_hash CHECK (hash ~ '^[0-9a-f]{64}$')
      )`);
    await q.query('CREATE INDEX audit_ledger_tenant ON audit_ledger (tenant, sequence)');
    await q.query('CREATE INDEX audit_ledger_subject ON audit_ledger (actor_subject, sequence)');
    await q.query('CREATE INDEX audit_ledger_tool ON audit_ledger (tool, sequence)');
    await q.query('CREATE INDEX audit_ledger_at ON audit_ledger (at)');

    // SET search_path FROM CURRENT: the functions find the ledger's tables whoever calls them.
    await q.query(`
      CREATE FUNCTION audit_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        RAISE EXCEPTION 'the audit ledger is append-only: % of % is refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_ledger_append_only
      BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_ledger
      FOR EACH STATEMENT EXECUTE FUNCTION audit_ledger_refuse_change()`);
    await q.query(`
      CREATE FUNCTION audit_ledger_link() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        UPDATE audit_chain_head SET sequence = NEW.sequence, hash = NEW.hash
          WHERE id = 1 AND sequence = NEW.sequence - 1 AND hash = NEW.prev_hash;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'audit row % does not follow the head of the chain', NEW.sequence
            USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_ledger_chained BEFORE INSERT ON audit_ledger
      FOR EACH ROW EXECUTE FUNCTION audit_ledger_link()`);
    // The head moves one step at a time and only from inside audit_ledger_link (depth 2).
    await q.query(`
      CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        IF TG_OP <> 'UPDATE' OR pg_trigger_depth() < 2 OR NEW.id <> OLD.id
           OR NEW.sequence <> OLD.sequence + 1 THEN
          RAISE EXCEPTION 'the audit chain head moves only by appending a row (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_chain_head_moves BEFORE UPDATE OR DELETE ON audit_chain_head
      FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()`);
    await q.query(`
      CREATE TRIGGER audit_chain_head_kept BEFORE TRUNCATE ON audit_chain_head
      FOR EACH STATEMENT EXECUTE FUNCTION audit_ledger_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_ledger');
    await q.query('DROP TABLE audit_chain_head');
    await q.query('DROP FUNCTION audit_chain_head_guard()');
    await q.query('DROP FUNCTION audit_ledger_link()');
    await q.query('DROP FUNCTION audit_ledger_refuse_change()');
  }
}
