import type { EntityManager } from '@toolbus/persistence';

/**
 * Rows of a raw query. TypeORM answers UPDATE/DELETE ... RETURNING with `[rows, count]` and
 * everything else with the rows.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  )
    return result[0] as T[];
  return result as T[];
}

/** Slack after the call's deadline: the SDK answers "timeout" first, then the database gives up. */
const AFTER_DEADLINE_MS = 250;

/**
 * Bounds the statements of this transaction by the call's deadline. A query cannot take the
 * abort signal, so a handler stuck behind a row lock would otherwise hold its connection long
 * after its caller was answered "timeout"; PostgreSQL cancels it instead.
 */
export async function boundByDeadline(em: EntityManager, deadline: number): Promise<void> {
  const ms = `${Math.max(1, deadline - Date.now()) + AFTER_DEADLINE_MS}ms`;
  await em.query(
    `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $1, true)`,
    [ms],
  );
}
