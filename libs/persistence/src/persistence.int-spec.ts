import { infraFromEnv, uniqueName } from '@toolbus/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataSource, MigrationInterface, QueryRunner } from './index.js';
import { createDataSource, databaseCheck, openDatabase } from './index.js';

class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id text PRIMARY KEY, size int NOT NULL CHECK (size > 0))');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}

const urls: Array<[string, () => string]> = [
  ['PostgreSQL', () => infraFromEnv().databaseUrl],
  ['PGlite', () => 'pglite://memory'],
];

/** One schema, one set of migrations, two engines. */
describe.each(urls)('persistence on %s', (_name, url) => {
  const opened: DataSource[] = [];
  afterAll(() => Promise.all(opened.map((d) => d.destroy())));

  it('creates the service schema, applies migrations once, and resolves unqualified names to it', async () => {
    const schema = uniqueName('svc').replace(/-/g, '_');
    const ds = await openDatabase({ url: url(), schema, migrations: [CreateWidgets1700000000000] });
    opened.push(ds);
    await ds.query(`INSERT INTO widgets (id, size) VALUES ('w1', 3)`);
    expect(await ds.query(`SELECT size FROM "${schema}".widgets`)).toEqual([{ size: 3 }]);
    expect((await ds.runMigrations()).length).toBe(0);
    expect(await databaseCheck(ds).check()).toBe(true);
  });

  it('rolls a transaction back on error', async () => {
    const schema = uniqueName('svc').replace(/-/g, '_');
    const ds = await openDatabase({ url: url(), schema, migrations: [CreateWidgets1700000000000] });
    opened.push(ds);
    await expect(
      ds.transaction(async (em) => {
        await em.query(`INSERT INTO widgets (id, size) VALUES ('w2', 1)`);
        await em.query(`INSERT INTO widgets (id, size) VALUES ('w3', -1)`);
      }),
    ).rejects.toThrow(/check constraint/);
    expect(await ds.query('SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 0 }]);
  });
});

describe('persistence configuration', () => {
  it('rejects a bad schema name and a foreign URL, hiding credentials', () => {
    expect(() =>
      createDataSource({ url: 'pglite://memory', schema: 'Bad-Name', migrations: [] }),
    ).toThrow('database schema "Bad-Name" is invalid');
    expect(() =>
      createDataSource({ url: 'mysql://root:secret@db/x', schema: 'x', migrations: [] }),
    ).toThrow('must start with postgres:// or pglite:// (got "db/x")');
  });
});
