import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/**
 * The usage ledger behind the token budgets: one row per model call (keyed by the model shim's
 * answer id, so a record retried is not a second spend), with the month's and the ask's totals
 * kept beside it in the same statement, so a check never sums a month of rows. The counters in
 * Redis are rebuilt from these totals when Redis has lost them; the warning claims make the 80%
 * warning once per tenant, month and kind even then.
 */
export class CreateUsageLedger1767398400000 implements MigrationInterface {
  name = 'CreateUsageLedger1767398400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_spend (
        call_id text PRIMARY KEY,
        ask_id text NOT NULL,
        tenant text NOT NULL,
        month char(7) NOT NULL CONSTRAINT usage_spend_month CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
        model text NOT NULL,
        input_tokens integer NOT NULL CONSTRAINT usage_spend_input CHECK (input_tokens >= 0),
        output_tokens integer NOT NULL CONSTRAINT usage_spend_output CHECK (output_tokens >= 0),
        usd_micros bigint NOT NULL CONSTRAINT usage_spend_usd CHECK (usd_micros >= 0),
        at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX usage_spend_tenant_month ON usage_spend (tenant, month, at)');
    await q.query(`
      CREATE TABLE usage_month (
        tenant text NOT NULL,
        month char(7) NOT NULL,
        tokens bigint NOT NULL,
        usd_micros bigint NOT NULL,
        PRIMARY KEY (tenant, month)
      )`);
    await q.query(`
      CREATE TABLE usage_ask (
        ask_id text PRIMARY KEY,
        tokens bigint NOT NULL
      )`);
    await q.query(`
      CREATE TABLE usage_warning (
        tenant text NOT NULL,
        month char(7) NOT NULL,
        kind text NOT NULL CONSTRAINT usage_warning_kind CHECK (kind IN ('tokens', 'usd')),
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant, month, kind)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE usage_warning');
    await q.query('DROP TABLE usage_ask');
    await q.query('DROP TABLE usage_month');
    await q.query('DROP TABLE usage_spend');
  }
}
