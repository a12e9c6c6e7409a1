import { openDatabase, type DataSource, type MigrationInterface } from '@toolbus/persistence';
import type { Logger } from '@toolbus/observability';

/** What a service asks of its database: its own schema, migrated. */
export interface DatabaseRequest {
  schema: string;
  migrations: Array<new () => MigrationInterface>;
  logger: Logger;
}

/**
 * Opens a service's schema, migrated. Production opens the service's own `DATABASE_URL`; the
 * embedded platform hands every service one connector over the same PGlite database.
 */
export interface DatabaseConnector {
  open(request: DatabaseRequest): Promise<DataSource>;
}

/** The connector of a service's `DATABASE_URL` (postgres://… or pglite://…). */
export function urlDatabase(config: { DATABASE_URL: string }): DatabaseConnector {
  return { open: (request) => openDatabase({ url: config.DATABASE_URL, ...request }) };
}
