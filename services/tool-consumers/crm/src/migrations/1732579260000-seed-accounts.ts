import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';

/** Demo customers: what the examples, the offline planner and the tests talk about. */
export const SEED_ACCOUNTS = [
  { id: 'cus_001', name: 'Acme Corp', country: 'US', currency: 'USD', creditLimit: 50_000 },
  {
    id: 'cus_002',
    name: 'Globex Corporation',
    country: 'US',
    currency: 'USD',
    creditLimit: 250_000,
  },
  { id: 'cus_003', name: 'Initech Solutions', country: 'US', currency: 'USD', creditLimit: 75_000 },
  {
    id: 'cus_004',
    name: 'Nordwind Logistik GmbH',
    country: 'DE',
    currency: 'EUR',
    creditLimit: 180_000,
  },
  {
    id: 'cus_005',
    name: 'Brightwater Foods Ltd',
    country: 'GB',
    currency: 'GBP',
    creditLimit: 90_000,
  },
  {
    id: 'cus_006',
    name: 'Sakura Precision KK',
    country: 'JP',
    currency: 'JPY',
    creditLimit: 9_000_000,
  },
  {
    id: 'cus_007',
    name: 'Maple Leaf Timber Inc',
    country: 'CA',
    currency: 'CAD',
    creditLimit: 140_000,
  },
  {
    id: 'cus_008',
    name: 'Bouchard & Fils SA',
    country: 'FR',
    currency: 'EUR',
    creditLimit: 60_000,
  },
  {
    id: 'cus_009',
    name: 'Southern Cross Mining Pty Ltd',
    country: 'AU',
    currency: 'AUD',
    creditLimit: 400_000,
  },
  {
    id: 'cus_010',
    name: 'Fjord Analytics AS',
    country: 'NO',
    currency: 'NOK',
    creditLimit: 750_000,
  },
  {
    id: 'cus_011',
    name: 'Rio Verde Agro Ltda',
    country: 'BR',
    currency: 'BRL',
    creditLimit: 300_000,
  },
  {
    id: 'cus_012',
    name: 'Helvetia Instruments AG',
    country: 'CH',
    currency: 'CHF',
    creditLimit: 220_000,
  },
  {
    id: 'cus_013',
    name: 'Lakeside Medical Supplies Inc',
    country: 'US',
    currency: 'USD',
    creditLimit: 45_000,
  },
  {
    id: 'cus_014',
    name: 'Deccan Circuit Works Pvt Ltd',
    country: 'IN',
    currency: 'INR',
    creditLimit: 5_000_000,
  },
  {
    id: 'cus_015',
    name: 'Kestrel Aerospace Ltd',
    country: 'GB',
    currency: 'GBP',
    creditLimit: 600_000,
  },
  // On credit hold: a limit of zero is a real state, not a missing value.
  { id: 'cus_016', name: 'Oakridge Hardware Co', country: 'US', currency: 'USD', creditLimit: 0 },
] as const;

export class SeedAccounts1732579260000 implements MigrationInterface {
  name = 'SeedAccounts1732579260000';

  async up(q: QueryRunner): Promise<void> {
    for (const a of SEED_ACCOUNTS) {
      await q.query(
        'INSERT INTO accounts (id, name, country, currency, credit_limit) VALUES ($1, $2, $3, $4, $5)',
        [a.id, a.name, a.country, a.currency, a.creditLimit],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const ids = SEED_ACCOUNTS.map((a) => a.id);
    await q.query('DELETE FROM account_history WHERE account_id = ANY($1)', [ids]);
    await q.query('DELETE FROM accounts WHERE id = ANY($1)', [ids]);
  }
}
