import { verifyChain } from '@toolbus/contracts';
import { openDatabase, type DataSource } from '@toolbus/persistence';
import { infraFromEnv, uniqueName } from '@toolbus/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { orchestratorMigrations } from '../../src/database/migrations/index.js';
import { chainRowOf } from '../../src/ledger/ledger-record.js';
import { PgLedgerStore } from '../../src/ledger/ledger-store.js';
import { columnsOf, ledgerStoreContract } from './ledger-store.contract.js';

const open = (schema: string) =>
  openDatabase({ url: infraFromEnv().databaseUrl, schema, migrations: orchestratorMigrations });

ledgerStoreContract('PostgreSQL', async () => {
  const schema = uniqueName('ledger_store').replace(/-/g, '_');
  const db = await open(schema);
  return {
    db,
    close: async () => {
      await db.query(`DROP SCHEMA "${schema}" CASCADE`);
      await db.destroy();
    },
  };
});

describe('LedgerStore on PostgreSQL, two replicas', () => {
  const schema = uniqueName('ledger_replicas').replace(/-/g, '_');
  const sources: DataSource[] = [];
  afterAll(async () => {
    await sources[0]?.query(`DROP SCHEMA "${schema}" CASCADE`);
    await Promise.all(sources.map((db) => db.destroy()));
  });

  it('chains appends from two pools one after another: the head row lock serializes them', async () => {
    sources.push(await open(schema), await open(schema));
    const [a, b] = sources.map((db) => new PgLedgerStore(db));
    const appended = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a! : b!).append(columnsOf())),
    );
    expect(appended.map((x) => x.sequence).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const { head, rows } = await a!.chain(0, 100);
    expect(head.sequence).toBe(40);
    expect(verifyChain(rows.map(chainRowOf), { head })).toMatchObject({ ok: true, rows: 40 });
  });
});
