import type { RateDecision, RateDecisions } from './state-store.js';

/**
 * Folds per-window decisions: allowed only when every window allows; refused, the caller
 * waits for the slowest window and may still make as many calls as the tightest one has left.
 */
export function combine(windows: RateDecision[]): RateDecisions {
  const allowed = windows.every((d) => d.allowed);
  return {
    allowed,
    remaining: Math.min(...windows.map((d) => d.remaining)),
    retryAfterMs: allowed ? 0 : Math.max(...windows.map((d) => d.retryAfterMs)),
    windows,
  };
}

/** Parses a stored counter as Redis INCRBY would, refusing what is not an integer. */
export function counterValue(operation: string, key: string, value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new TypeError(`${operation}: key ${key} holds ${JSON.stringify(value)}, not a counter`);
  return n;
}
