import { MemoryUsageLedger, type Spend, type UsageLedger } from '@toolbus/policy';
import { openDatabase, type DataSource } from '@toolbus/persistence';
import { StateUnavailableError } from '@toolbus/state';
import { infraFromEnv, uniqueName } from '@toolbus/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { orchestratorMigrations } from '../../src/database/migrations/index.js';
import { PgUsageLedger } from '../../src/usage/pg-usage-ledger.js';

const open = (schema: string, url = infraFromEnv().databaseUrl) =>
  openDatabase({ url, schema, migrations: orchestratorMigrations });

let n = 0;
const spend = (over: Partial<Spend> = {}): Spend => ({
  tenant: 'acme',
  month: '2026-12',
  askId: 'ask-1',
  callId: `call-${++n}`,
  model: 'claude-test',
  inputTokens: 100,
  outputTokens: 20,
  usdMicros: 1_500,
  at: '2026-12-03T10:00:00.000Z',
  ...over,
});

/** What every usage ledger answers alike: the memory adapter and PostgreSQL (and PGlite). */
function usageLedgerContract(name: string, make: () => Promise<UsageLedger>) {
  describe(`UsageLedger on ${name}`, () => {
    it('answers the month’s and the ask’s totals after each spend, and counts a call once', async () => {
      const ledger = await make();
      const first = spend();
      expect(await ledger.record(first)).toEqual({
        added: true,
        tenant: 'acme',
        month: '2026-12',
        totals: { tokens: 120, usdMicros: 1_500 },
        askTokens: 120,
      });
      expect(
        await ledger.record(spend({ inputTokens: 30, outputTokens: 0, usdMicros: 10 })),
      ).toEqual(
        expect.objectContaining({
          added: true,
          totals: { tokens: 150, usdMicros: 1_510 },
          askTokens: 150,
        }),
      );
      // The same call again (a retried record), even with other numbers: nothing added.
      expect(await ledger.record({ ...first, inputTokens: 9_999 })).toEqual({
        added: false,
        tenant: 'acme',
        month: '2026-12',
        totals: { tokens: 150, usdMicros: 1_510 },
        askTokens: 150,
      });
      await ledger.record(spend({ askId: 'ask-2', month: '2027-01' }));
      await ledger.record(spend({ tenant: 'globex', askId: 'ask-3' }));
      expect(await ledger.totals('acme', '2026-12')).toEqual({ tokens: 150, usdMicros: 1_510 });
      expect(await ledger.totals('acme', '2027-01')).toEqual({ tokens: 120, usdMicros: 1_500 });
      expect(await ledger.totals('acme', '2026-11')).toEqual({ tokens: 0, usdMicros: 0 });
      expect(await ledger.askTokens('ask-1')).toBe(150);
      expect(await ledger.askTokens('ask-none')).toBe(0);
    });

    it('gives each month’s warning of each kind to one claimant', async () => {
      const ledger = await make();
      const claims = await Promise.all(
        Array.from({ length: 6 }, () => ledger.claimWarning('acme', '2026-12', 'tokens')),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await ledger.claimWarning('acme', '2026-12', 'usd')).toBe(true);
      expect(await ledger.claimWarning('acme', '2027-01', 'tokens')).toBe(true);
      expect(await ledger.claimWarning('globex', '2026-12', 'tokens')).toBe(true);
    });
  });
}

const schemas: Array<{ db: DataSource; schema: string }> = [];
afterAll(async () => {
  for (const { db, schema } of schemas.reverse()) {
    if (db.isInitialized) await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    if (db.isInitialized) await db.destroy();
  }
});

async function pg(url?: string): Promise<PgUsageLedger> {
  const schema = uniqueName('usage').replace(/-/g, '_');
  const db = await open(schema, url);
  schemas.push({ db, schema });
  return new PgUsageLedger(db);
}

usageLedgerContract('memory', async () => new MemoryUsageLedger());
usageLedgerContract('PostgreSQL', () => pg());
usageLedgerContract('PGlite', () => pg('pglite://memory'));

describe('UsageLedger on PostgreSQL, two replicas', () => {
  it('keeps exact totals when replicas record at once, each call once', async () => {
    const schema = uniqueName('usage_replicas').replace(/-/g, '_');
    const [da, db] = [await open(schema), await open(schema)];
    schemas.push({ db: da, schema }, { db, schema });
    const [a, b] = [new PgUsageLedger(da), new PgUsageLedger(db)];
    const spends = Array.from({ length: 40 }, (_, i) =>
      spend({ askId: `ask-${i % 4}`, inputTokens: 10, outputTokens: 5, usdMicros: 250 }),
    );
    // Every spend recorded by both replicas at the same time: each counts once.
    const answers = await Promise.all(spends.flatMap((s) => [a.record(s), b.record(s)]));
    expect(answers.filter((x) => x.added)).toHaveLength(40);
    expect(await b.totals('acme', '2026-12')).toEqual({ tokens: 600, usdMicros: 10_000 });
    expect(await a.askTokens('ask-3')).toBe(150);
    // The last answer of each replica saw every spend committed before it.
    expect(Math.max(...answers.map((x) => x.totals.tokens))).toBe(600);
  });

  it('says the ledger is unavailable (retryable) when the database is away, and a bad spend is a RangeError', async () => {
    const schema = uniqueName('usage_away').replace(/-/g, '_');
    const db = await open(schema);
    const ledger = new PgUsageLedger(db);
    await expect(ledger.record(spend({ month: '2026-1X' }))).rejects.toThrow(
      /^usage ledger record: .*usage_spend_month/,
    );
    await db.query(`DROP SCHEMA "${schema}" CASCADE`);
    await db.destroy();
    const away = await ledger.totals('acme', '2026-12').catch((e: unknown) => e);
    expect(away).toBeInstanceOf(StateUnavailableError);
    expect((away as StateUnavailableError).message).toMatch(
      /^state store unavailable during usage ledger totals: /,
    );
  });
});
