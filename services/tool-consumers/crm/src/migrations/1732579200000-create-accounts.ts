import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/** Customer accounts and their change history. */
export class CreateAccounts1732579200000 implements MigrationInterface {
  name = 'CreateAccounts1732579200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY CONSTRAINT accounts_id_format CHECK (id ~ '^cus_[0-9]{3,}$'),
        name text NOT NULL CONSTRAINT accounts_name_key UNIQUE,
        country text NOT NULL CONSTRAINT accounts_country_iso CHECK (country ~ '^[A-Z]{2}$'),
        currency text NOT NULL CONSTRAINT accounts_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
        credit_limit numeric(14, 2) NOT NULL
          CONSTRAINT accounts_credit_limit_not_negative CHECK (credit_limit >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Names differing only in case are the same customer to a person (and to find_customer).
    await q.query('CREATE UNIQUE INDEX accounts_name_lower ON accounts (lower(name))');
    await q.query(`
      CREATE TABLE account_history (
        id serial PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts (id),
        field text NOT NULL,
        old_value text,
        new_value text,
        reason text NOT NULL,
        idempotency_key text,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX account_history_account ON account_history (account_id, changed_at DESC)',
    );
    // The SDK's dedup already makes a call's effect happen once; this makes the database refuse
    // a second history row for one call even if that ever failed.
    await q.query(
      `CREATE UNIQUE INDEX account_history_idempotency ON account_history (idempotency_key, field)
       WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE account_history');
    await q.query('DROP TABLE accounts');
  }
}
