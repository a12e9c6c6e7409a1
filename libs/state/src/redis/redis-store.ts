import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
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
import {
  consumeScript,
  incrementScript,
  listAppendScript,
  listReplaceScript,
  raiseScript,
  type LuaScript,
} from './scripts.js';

/** Where connection trouble is reported: once per change (down, back), never per retry. */
export interface StateLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. */
  url: string;
  /** Prepended to every key, so deployments sharing a Redis stay apart; default `toolbus:`. */
  keyPrefix?: string;
  /**
   * How long a command may take before it fails with `StateUnavailableError`, and how long an
   * operation waits for the very first connection; default 250 ms. Once connected, an
   * operation while disconnected fails at once.
   */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts while Redis is down; default 1,000 ms. */
  maxReconnectDelayMs?: number;
  logger?: StateLogger;
}

/** Redis replies that mean "not now" rather than "wrong command". */
const UNAVAILABLE_REPLIES =
  /^(LOADING|BUSY|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS|MISCONF)\b/;

/**
 * The Redis `StateStore`. Nothing waits without bound: the offline queue is off (a command
 * while disconnected fails at once instead of queueing), a command in flight when the
 * connection drops is failed rather than resent, and every command has the command timeout.
 * The client keeps reconnecting in the background, so the same store works again once Redis
 * is back.
 */
export function createRedisStore(options: RedisStoreOptions): StateStore {
  return new RedisStore(options);
}

class RedisStore implements StateStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly logger: StateLogger | undefined;
  private everReady = false;
  /** One listener for every operation waiting on the first connection (a burst at start-up). */
  private readonly firstConnection: Promise<void>;
  private down = false;
  private closed = false;

  constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix ?? 'toolbus:';
    this.timeoutMs = options.commandTimeoutMs ?? 250;
    this.logger = options.logger;
    if (!Number.isSafeInteger(this.timeoutMs) || this.timeoutMs <= 0)
      throw new RangeError(`commandTimeoutMs must be a positive integer, got ${this.timeoutMs}`);
    const maxDelay = options.maxReconnectDelayMs ?? 1_000;
    this.client = new Redis(options.url, {
      // RESP2: nothing here needs RESP3, and every Redis and proxy speaks RESP2.
      protocol: 2,
      enableOfflineQueue: false,
      commandTimeout: this.timeoutMs,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: Math.max(1_000, this.timeoutMs),
      retryStrategy: (attempt) => Math.min(25 * 2 ** attempt, maxDelay),
    });
    this.firstConnection = new Promise((resolve) => this.client.once('ready', () => resolve()));
    this.client.on('ready', () => {
      this.everReady = true;
      if (this.down) this.logger?.info({ url: redact(options.url) }, 'state store reconnected');
      this.down = false;
    });
    // ioredis reports every failed attempt; report the change once, and never crash on it.
    this.client.on('error', (error: Error) => {
      if (!this.down && !this.closed)
        this.logger?.warn({ url: redact(options.url), err: error.message }, 'state store down');
      this.down = true;
    });
  }

  /** Waits for the first connection within the timeout; after that, not ready means down. */
  private async ready(operation: string): Promise<void> {
    if (this.closed) throw new StateUnavailableError(operation, 'the store is closed');
    if (this.client.status === 'ready') return;
    if (this.everReady)
      throw new StateUnavailableError(operation, `not connected (${this.client.status})`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.firstConnection,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new StateUnavailableError(operation, `not connected within ${this.timeoutMs} ms`),
              ),
            this.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    await this.ready(operation);
    try {
      return await command();
    } catch (error) {
      throw translate(operation, error);
    }
  }

  private async eval(
    script: LuaScript,
    keys: string[],
    args: Array<string | number>,
  ): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // After a Redis restart (or a failover) the script cache is empty: send it whole once.
      if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
        return this.client.eval(script.lua, keys.length, ...keys, ...args);
      throw error;
    }
  }

  async get(key: string): Promise<string | undefined> {
    checkKey('get', key);
    const value = await this.run('get', () => this.client.get(this.prefix + key));
    return value ?? undefined;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    checkSet(key, value, options);
    const k = this.prefix + key;
    const reply = await this.run('set', () => {
      const ttl = options.ttlMs;
      if (options.ifAbsent)
        return ttl !== undefined
          ? this.client.set(k, value, 'PX', ttl, 'NX')
          : this.client.set(k, value, 'NX');
      return ttl !== undefined ? this.client.set(k, value, 'PX', ttl) : this.client.set(k, value);
    });
    return reply === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    checkKey('delete', key);
    return (await this.run('delete', () => this.client.del(this.prefix + key))) > 0;
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
    const nonce = randomBytes(9).toString('base64url');
    const reply = (await this.run('consume', () =>
      this.eval(
        consumeScript,
        windows.map((w) => this.prefix + w.key),
        [cost, nonce, ...windows.flatMap((w) => [w.limit, w.windowMs])],
      ),
    )) as number[];
    return combine(
      windows.map((_, i) => ({
        allowed: reply[1 + 3 * i] === 1,
        remaining: Number(reply[2 + 3 * i]),
        retryAfterMs: Number(reply[3 + 3 * i]),
      })),
    );
  }

  async increment(key: string, by: number, options: { ttlMs?: number } = {}): Promise<number> {
    checkIncrement(key, by, options);
    const value = await this.run('increment', () =>
      this.eval(incrementScript, [this.prefix + key], [by, options.ttlMs ?? '']),
    );
    return Number(value);
  }

  async raise(key: string, value: number, options: { ttlMs?: number } = {}): Promise<number> {
    checkRaise(key, value, options);
    const reply = await this.run('raise', () =>
      this.eval(raiseScript, [this.prefix + key], [value, options.ttlMs ?? '']),
    );
    return Number(reply);
  }

  async readCounters(keys: readonly string[]): Promise<Record<string, number>> {
    for (const key of keys) checkKey('readCounters', key);
    if (keys.length === 0) return {};
    const values = await this.run('readCounters', () =>
      this.client.mget(...keys.map((k) => this.prefix + k)),
    );
    const out: Record<string, number> = {};
    keys.forEach((key, i) => {
      const v = values[i];
      out[key] = v === null || v === undefined ? 0 : counterValue('readCounters', key, v);
    });
    return out;
  }

  async listAppend(
    key: string,
    entries: readonly string[],
    options: ListOptions,
  ): Promise<ListAppended> {
    checkList('listAppend', key, entries, options);
    const [length, dropped] = (await this.run('listAppend', () =>
      this.eval(
        listAppendScript,
        [this.prefix + key],
        [options.maxLength, options.ttlMs, ...entries],
      ),
    )) as [number, string[]];
    return { length: Number(length), dropped };
  }

  async listRange(key: string, range?: { start?: number; stop?: number }): Promise<string[]> {
    checkKey('listRange', key);
    const { start, stop } = checkRange(range);
    return this.run('listRange', () => this.client.lrange(this.prefix + key, start, stop));
  }

  async listReplace(key: string, entries: readonly string[], options: ListOptions): Promise<void> {
    checkList('listReplace', key, entries, options);
    checkReplaceLength(entries, options);
    await this.run('listReplace', () =>
      this.eval(listReplaceScript, [this.prefix + key], [options.ttlMs, ...entries]),
    );
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    checkKey('once', key);
    checkTtl('once', ttlMs);
    return this.set(key, '1', { ttlMs, ifAbsent: true });
  }

  async isHealthy(): Promise<boolean> {
    const connected = await this.ready('isHealthy').then(
      () => true,
      () => false,
    );
    if (!connected) return false;
    return this.client.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }
}

/** Connection trouble, timeouts and "not now" replies become `StateUnavailableError`. */
function translate(operation: string, error: unknown): Error {
  if (error instanceof StateUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && !UNAVAILABLE_REPLIES.test(message))
    // A refused command (a key of the wrong type, a script error) is a bug, not an outage.
    return new Error(`state store refused ${operation}: ${message}`, { cause: error });
  return new StateUnavailableError(operation, message, { cause: error });
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis (unparsable URL)';
  }
}
