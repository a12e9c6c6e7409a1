/**
 * Rows of a raw query. TypeORM answers UPDATE/DELETE ... RETURNING on PostgreSQL with
 * `[rows, affectedCount]` and everything else with the rows.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/** LIKE's own wildcards (and its escape character) in `text`, taken literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A LIKE pattern matching `text` anywhere. */
export function likeContains(text: string): string {
  return `%${escapeLike(text)}%`;
}

/** A LIKE pattern matching values that start with `text`. */
export function likePrefix(text: string): string {
  return `${escapeLike(text)}%`;
}
