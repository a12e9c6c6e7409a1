import 'reflect-metadata';
import type { Logger } from '@toolbus/observability';
import pg from 'pg';
import { DataSource, type EntitySchema, type MigrationInterface } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';

type EntityTarget = (new (...args: never[]) => unknown) | EntitySchema;
type MigrationClass = new () => MigrationInterface;

export interface DatabaseOptions {
  /**
   * `postgres://user@host:port/db` for PostgreSQL, `pglite://memory` for an in-process
   * database (embedded mode and unit tests), `pglite:///path/to/dir` for a persistent PGlite.
   */
  url: string;
  /** The service's own PostgreSQL schema: its tables, its migrations table, its search_path. */
  schema: string;
  entities?: EntityTarget[];
  migrations: MigrationClass[];
  logger?: Logger;
  /** Connections in the pool (PostgreSQL). Default 10. */
  poolSize?: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * typeorm-pglite keeps ONE PGlite instance per process and closes it when any data source is
 * destroyed. The embedded mode runs every service in one process, each in its own schema of
 * that one database, so closing is reference-counted: the instance closes with the last
 * data source, and a second, different PGlite location is refused instead of silently ignored.
 */
let pgliteLocation: string | undefined;
let openPglitePools = 0;

type PoolBase = new () => { end(callback: (error: unknown) => void): void };

function sharedPgliteDriver(location: string): unknown {
  if (pgliteLocation !== undefined && pgliteLocation !== location && openPglitePools > 0) {
    throw new Error(
      `PGlite is already open at "${pgliteLocation}" in this process; one PGlite database per process (got "${location}")`,
    );
  }
  pgliteLocation = location;
  const Base = new PGliteDriver(
    location === 'memory' || location === '' ? {} : { dataDir: location },
  ).driver.Pool as unknown as PoolBase;
  class SharedPool extends Base {
    constructor() {
      super();
      openPglitePools++;
    }
    override end(callback: (error: unknown) => void): void {
      if (--openPglitePools > 0) {
        callback(null);
        return;
      }
      super.end(callback);
    }
  }
  return { Pool: SharedPool };
}

/**
 * One TypeORM data source per service, shared by the app and the migration runner;
 * `synchronize` is always off: the schema changes only through migrations.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  if (!SCHEMA.test(options.schema)) {
    throw new Error(
      `database schema "${options.schema}" is invalid: lower-case letters, digits and _ (at most 63)`,
    );
  }
  const common = {
    type: 'postgres' as const,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
  };
  if (options.url.startsWith('pglite://')) {
    return new DataSource({
      ...common,
      driver: sharedPgliteDriver(options.url.slice('pglite://'.length)),
    });
  }
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new Error(
      `database URL must start with postgres:// or pglite:// (got "${options.url.split('@').pop()}")`,
    );
  }
  return new DataSource({
    ...common,
    url: options.url,
    // Handed over rather than required by TypeORM, which resolves `pg` from its own folder.
    driver: pg,
    // Unqualified names in migrations and queries resolve to the service's schema.
    extra: { max: options.poolSize ?? 10, options: `-c search_path=${options.schema},public` },
  });
}

/**
 * Connects, creates the service's schema if needed and applies pending migrations (each in
 * its own transaction). Returns the ready data source.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const ds = createDataSource(options);
  await ds.initialize();
  try {
    await ds.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    // PGlite has a single connection: set its search_path once (PostgreSQL gets it per connection).
    if (options.url.startsWith('pglite://'))
      await ds.query(`SET search_path TO "${options.schema}", public`);
    const applied = await ds.runMigrations({ transaction: 'each' });
    if (applied.length > 0)
      options.logger?.info(
        { migrations: applied.map((m) => m.name), schema: options.schema },
        'migrations applied',
      );
    return ds;
  } catch (error) {
    await ds.destroy().catch(() => undefined);
    throw error;
  }
}

/** Readiness check: the database answers a trivial query. */
export function databaseCheck(ds: DataSource): { name: string; check(): Promise<boolean> } {
  return {
    name: 'postgres',
    check: async () => {
      if (!ds.isInitialized) return false;
      await ds.query('SELECT 1');
      return true;
    },
  };
}
