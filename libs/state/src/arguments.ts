import type { ListOptions, RateWindow, SetOptions } from './state-store.js';

/*
 * Argument checks shared by both adapters, so a bad call fails the same way in memory and in
 * Redis, before anything is sent, with a message that names the argument and the value.
 */

const MAX_KEY_LENGTH = 1024;
/** Entries one list call may carry: a conversation turn or a summarised history, not a dump. */
const MAX_LIST_ENTRIES = 10_000;

function fail(operation: string, what: string, value: unknown): never {
  throw new RangeError(`${operation}: ${what}, got ${JSON.stringify(value) ?? String(value)}`);
}

export function checkKey(operation: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
    fail(operation, `key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`, key);
  return key;
}

function positiveInteger(operation: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    fail(operation, `${name} must be a positive integer`, value);
  return value;
}

export function checkTtl(operation: string, ttlMs: unknown): number {
  return positiveInteger(operation, 'ttlMs', ttlMs);
}

export function checkSet(key: string, value: unknown, options: SetOptions = {}): void {
  checkKey('set', key);
  if (typeof value !== 'string') fail('set', 'value must be a string', value);
  if (options.ttlMs !== undefined) checkTtl('set', options.ttlMs);
}

/** Checks the windows and cost of a consume; the cost may not exceed any window's limit. */
export function checkWindows(windows: readonly RateWindow[], cost: unknown = 1): number {
  if (!Array.isArray(windows) || windows.length === 0)
    fail('consume', 'at least one rate window is needed', windows);
  const c = positiveInteger('consume', 'cost', cost);
  const keys = new Set<string>();
  for (const w of windows) {
    checkKey('consume', w.key);
    if (keys.has(w.key)) fail('consume', 'each window needs its own key', w.key);
    keys.add(w.key);
    positiveInteger('consume', 'limit', w.limit);
    positiveInteger('consume', 'windowMs', w.windowMs);
    if (c > w.limit)
      fail('consume', `cost ${c} can never fit in a limit of ${w.limit} (key ${w.key})`, c);
  }
  return c;
}

export function checkIncrement(key: string, by: unknown, options: { ttlMs?: number } = {}): void {
  checkKey('increment', key);
  if (typeof by !== 'number' || !Number.isSafeInteger(by))
    fail('increment', 'by must be a safe integer (money is counted in micro-units)', by);
  if (options.ttlMs !== undefined) checkTtl('increment', options.ttlMs);
}

export function checkRaise(key: string, value: unknown, options: { ttlMs?: number } = {}): void {
  checkKey('raise', key);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail('raise', 'value must be a non-negative safe integer', value);
  if (options.ttlMs !== undefined) checkTtl('raise', options.ttlMs);
}

export function checkList(
  operation: string,
  key: string,
  entries: readonly unknown[],
  options: ListOptions,
): void {
  checkKey(operation, key);
  if (!Array.isArray(entries)) fail(operation, 'entries must be an array of strings', entries);
  if (entries.length > MAX_LIST_ENTRIES)
    fail(operation, `at most ${MAX_LIST_ENTRIES} entries may be written at once`, entries.length);
  for (const e of entries)
    if (typeof e !== 'string') fail(operation, 'every entry must be a string', e);
  positiveInteger(operation, 'maxLength', options?.maxLength);
  checkTtl(operation, options?.ttlMs);
}

export function checkRange(range: { start?: number; stop?: number } = {}): {
  start: number;
  stop: number;
} {
  const { start = 0, stop = -1 } = range;
  for (const [name, v] of [
    ['start', start],
    ['stop', stop],
  ] as const)
    if (!Number.isSafeInteger(v)) fail('listRange', `${name} must be an integer`, v);
  return { start, stop };
}

/** A replacement longer than the bound would have to be cut silently; refuse it instead. */
export function checkReplaceLength(entries: readonly string[], options: ListOptions): void {
  if (entries.length > options.maxLength)
    throw new RangeError(
      `listReplace: ${entries.length} entries exceed maxLength ${options.maxLength}; summarise first`,
    );
}
