import {
  checkIncrement,
  checkKey,
  checkList,
  checkRaise,
  checkRange,
  checkReplaceLength,
  checkSet,
  checkTtl,
  checkWindows,
} from '../arguments.js';
import { combine, counterValue } from '../decisions.js';
import {
  StateUnavailableError,
  type ListAppended,
  type ListOptions,
  type RateDecision,
  type RateDecisions,
  type RateLimitOptions,
  type RateWindow,
  type SetOptions,
  type StateStore,
} from '../state-store.js';

type Entry =
  | { type: 'string'; value: string; expiresAt?: number }
  | { type: 'list'; items: string[]; expiresAt?: number }
  /** A sliding-window log: one timestamp per counted unit, oldest first. */
  | { type: 'log'; at: number[]; expiresAt?: number };

/** Expired entries are dropped lazily on access, and all of them every this many writes. */
const SWEEP_EVERY_WRITES = 1_000;

/**
 * The data of the in-memory store: one per process in the embedded mode. Several stores may
 * share one (as replicas share one Redis), each with its own key prefix. Its clock plays the
 * part of the Redis server's clock; tests may give it their own.
 */
export class MemoryStateBackend {
  readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(options: { clock?: () => number } = {}) {
    this.now = options.clock ?? Date.now;
  }

  /** The live entry under `key`, dropping it when expired. */
  read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  write(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    if (++this.writes % SWEEP_EVERY_WRITES === 0) this.sweep();
  }

  remove(key: string): boolean {
    return this.read(key) !== undefined && this.entries.delete(key);
  }

  /** How many live entries it holds (for tests of its memory bound). */
  size(): number {
    this.sweep();
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries)
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key);
  }
}

export interface MemoryStoreOptions {
  /** Shared data; a fresh backend when absent. */
  backend?: MemoryStateBackend;
  /** Prepended to every key, as in Redis; default `toolbus:`. */
  keyPrefix?: string;
}

/** The in-memory `StateStore` of the embedded mode: one process, the same semantics as Redis. */
export function createMemoryStore(options: MemoryStoreOptions = {}): StateStore {
  return new MemoryStore(
    options.backend ?? new MemoryStateBackend(),
    options.keyPrefix ?? 'toolbus:',
  );
}

function wrongType(operation: string, key: string, type: string): never {
  throw new TypeError(`${operation}: key ${key} holds a ${type}, not what ${operation} expects`);
}

class MemoryStore implements StateStore {
  readonly kind = 'memory' as const;
  private closed = false;

  constructor(
    private readonly backend: MemoryStateBackend,
    private readonly prefix: string,
  ) {}

  private open(operation: string): void {
    if (this.closed) throw new StateUnavailableError(operation, 'the store is closed');
  }

  private string(operation: string, key: string): string | undefined {
    const entry = this.backend.read(this.prefix + key);
    if (entry === undefined) return undefined;
    if (entry.type !== 'string') wrongType(operation, key, entry.type);
    return entry.value;
  }

  async get(key: string): Promise<string | undefined> {
    checkKey('get', key);
    this.open('get');
    return this.string('get', key);
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    checkSet(key, value, options);
    this.open('set');
    const k = this.prefix + key;
    if (options.ifAbsent && this.backend.read(k) !== undefined) return false;
    this.backend.write(k, {
      type: 'string',
      value,
      ...(options.ttlMs !== undefined ? { expiresAt: this.backend.now() + options.ttlMs } : {}),
    });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    checkKey('delete', key);
    this.open('delete');
    return this.backend.remove(this.prefix + key);
  }

  async consume(key: string, options: RateLimitOptions): Promise<RateDecision> {
    const { windows: _windows, ...decision } = await this.consumeAll(
      [{ key, limit: options?.limit, windowMs: options?.windowMs }],
      { cost: options?.cost },
    );
    return decision;
  }

  async consumeAll(
    windows: readonly RateWindow[],
    options: { cost?: number } = {},
  ): Promise<RateDecisions> {
    const cost = checkWindows(windows, options.cost);
    this.open('consume');
    const now = this.backend.now();
    const logs = windows.map((w) => {
      const entry = this.backend.read(this.prefix + w.key);
      if (entry !== undefined && entry.type !== 'log') wrongType('consume', w.key, entry.type);
      const at = (entry?.at ?? []).filter((t) => t > now - w.windowMs);
      return { w, at };
    });
    const allowed = logs.every(({ w, at }) => at.length + cost <= w.limit);
    const decisions = logs.map(({ w, at }): RateDecision => {
      if (allowed) return { allowed, remaining: w.limit - at.length - cost, retryAfterMs: 0 };
      if (at.length + cost <= w.limit)
        return { allowed: true, remaining: w.limit - at.length, retryAfterMs: 0 };
      // The unit that must leave before `cost` more fit: the (count + cost - limit)-th oldest.
      const leaving = at[at.length + cost - w.limit - 1]!;
      return {
        allowed: false,
        remaining: Math.max(0, w.limit - at.length),
        retryAfterMs: leaving + w.windowMs - now,
      };
    });
    for (const { w, at } of logs) {
      if (allowed) for (let i = 0; i < cost; i++) at.push(now);
      if (at.length > 0)
        this.backend.write(this.prefix + w.key, {
          type: 'log',
          at,
          expiresAt: at[at.length - 1]! + w.windowMs,
        });
    }
    return combine(decisions);
  }

  async increment(key: string, by: number, options: { ttlMs?: number } = {}): Promise<number> {
    checkIncrement(key, by, options);
    this.open('increment');
    const k = this.prefix + key;
    const entry = this.backend.read(k);
    if (entry !== undefined && entry.type !== 'string') wrongType('increment', key, entry.type);
    const current = entry === undefined ? 0 : counterValue('increment', key, entry.value);
    const next = current + by;
    if (!Number.isSafeInteger(next))
      throw new RangeError(`increment: counter ${key} would leave the safe integer range`);
    const expiresAt =
      entry?.expiresAt ??
      (options.ttlMs !== undefined ? this.backend.now() + options.ttlMs : undefined);
    this.backend.write(k, {
      type: 'string',
      value: String(next),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    return next;
  }

  async raise(key: string, value: number, options: { ttlMs?: number } = {}): Promise<number> {
    checkRaise(key, value, options);
    this.open('raise');
    const k = this.prefix + key;
    const entry = this.backend.read(k);
    if (entry !== undefined && entry.type !== 'string') wrongType('raise', key, entry.type);
    const current = entry === undefined ? -1 : counterValue('raise', key, entry.value);
    const expiresAt =
      entry?.expiresAt ??
      (options.ttlMs !== undefined ? this.backend.now() + options.ttlMs : undefined);
    const next = Math.max(current, value);
    this.backend.write(k, {
      type: 'string',
      value: String(next),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    return next;
  }

  async readCounters(keys: readonly string[]): Promise<Record<string, number>> {
    for (const key of keys) checkKey('readCounters', key);
    this.open('readCounters');
    const out: Record<string, number> = {};
    for (const key of keys) {
      const value = this.string('readCounters', key);
      out[key] = value === undefined ? 0 : counterValue('readCounters', key, value);
    }
    return out;
  }

  private list(operation: string, key: string): string[] | undefined {
    const entry = this.backend.read(this.prefix + key);
    if (entry === undefined) return undefined;
    if (entry.type !== 'list') wrongType(operation, key, entry.type);
    return entry.items;
  }

  async listAppend(
    key: string,
    entries: readonly string[],
    options: ListOptions,
  ): Promise<ListAppended> {
    checkList('listAppend', key, entries, options);
    this.open('listAppend');
    const items = [...(this.list('listAppend', key) ?? []), ...entries];
    const dropped =
      items.length > options.maxLength ? items.splice(0, items.length - options.maxLength) : [];
    if (items.length > 0)
      this.backend.write(this.prefix + key, {
        type: 'list',
        items,
        expiresAt: this.backend.now() + options.ttlMs,
      });
    return { length: items.length, dropped };
  }

  async listRange(key: string, range?: { start?: number; stop?: number }): Promise<string[]> {
    checkKey('listRange', key);
    const { start, stop } = checkRange(range);
    this.open('listRange');
    const items = this.list('listRange', key) ?? [];
    // Redis LRANGE semantics: negative indexes from the end, `stop` inclusive, clamped.
    const n = items.length;
    const from = Math.max(0, start < 0 ? n + start : start);
    const to = Math.min(n - 1, stop < 0 ? n + stop : stop);
    return from > to ? [] : items.slice(from, to + 1);
  }

  async listReplace(key: string, entries: readonly string[], options: ListOptions): Promise<void> {
    checkList('listReplace', key, entries, options);
    checkReplaceLength(entries, options);
    this.open('listReplace');
    const k = this.prefix + key;
    if (entries.length === 0) {
      this.backend.remove(k);
      return;
    }
    this.backend.write(k, {
      type: 'list',
      items: [...entries],
      expiresAt: this.backend.now() + options.ttlMs,
    });
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    checkKey('once', key);
    checkTtl('once', ttlMs);
    return this.set(key, '1', { ttlMs, ifAbsent: true });
  }

  async isHealthy(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
