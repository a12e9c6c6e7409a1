import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, uniqueName, waitFor } from '@toolbus/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore, StateUnavailableError, type StateStore } from '../src/index.js';

/*
 * Outages are tried on a Redis of this test's own (never the shared one): started on a free
 * port without persistence, killed and restarted. The promise under test: while Redis is down
 * or stalled every operation fails fast with StateUnavailableError, and the same store works
 * again once Redis is back.
 */

const REDIS_SERVER = process.env['REDIS_SERVER'] ?? 'redis-server';
const TIMEOUT_MS = 250;
/** Margin for a loaded 2-core machine on top of the command timeout. */
const SLACK_MS = 250;

interface OwnRedis {
  url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  return {
    url,
    async start() {
      output = '';
      const started = spawn(
        REDIS_SERVER,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = started;
      started.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      started.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      await waitFor(() => output.includes('Ready to accept connections'), {
        what: `redis-server on port ${port} (output: ${output.slice(-500)})`,
      });
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs `operation` and says how it ended and how long it took. */
async function timed(operation: () => Promise<unknown>) {
  const started = performance.now();
  const outcome = await operation().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { ...outcome, ms: performance.now() - started };
}

describe('Redis StateStore outages', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('fails fast with StateUnavailableError when Redis was never reachable', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const store = createRedisStore({ url, commandTimeoutMs: TIMEOUT_MS });
    cleanup.push(() => store.close());
    for (const op of [
      () => store.get('k'),
      () => store.consume('q', { limit: 5, windowMs: 60_000 }),
      () => store.increment('c', 1),
      () => store.once('o', 1_000),
    ]) {
      const r = await timed(op);
      expect(r.ok).toBe(false);
      expect(r.ok ? undefined : r.error).toBeInstanceOf(StateUnavailableError);
      expect(r.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    }
    const health = await timed(() => store.isHealthy());
    expect(health).toMatchObject({ ok: true, value: false });
    expect(health.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('fails fast while its Redis is killed, and works again after a restart without a new store', async () => {
    const redis = await ownRedis();
    cleanup.push(() => redis.kill());
    await redis.start();
    const store: StateStore = createRedisStore({
      url: redis.url,
      keyPrefix: `${uniqueName('outage')}:`,
      commandTimeoutMs: TIMEOUT_MS,
      maxReconnectDelayMs: 200,
    });
    cleanup.push(() => store.close());
    expect((await store.consume('q', { limit: 3, windowMs: 60_000 })).allowed).toBe(true);
    expect(await store.increment('spent', 7)).toBe(7);

    await redis.kill();
    // Every operation during the outage fails with the typed error within the bound.
    await waitFor(async () => !(await store.isHealthy()), { what: 'the store to notice' });
    for (let i = 0; i < 20; i++) {
      const r = await timed(() =>
        i % 2 ? store.consume('q', { limit: 3, windowMs: 60_000 }) : store.increment('spent', 1),
      );
      expect(r.ok).toBe(false);
      expect(r.ok ? undefined : r.error).toBeInstanceOf(StateUnavailableError);
      expect(r.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    }

    await redis.start();
    // The same store reconnects by itself; the new Redis kept nothing (no persistence).
    await waitFor(() => store.isHealthy(), { what: 'the store to reconnect', timeoutMs: 15_000 });
    expect(await store.increment('spent', 1)).toBe(1);
    // The scripts were flushed with the old server; they are sent again transparently.
    expect(await store.consume('q', { limit: 3, windowMs: 60_000 })).toEqual({
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
    });
  });

  it('fails a command that Redis does not answer within the timeout, then recovers', async () => {
    const redis = await ownRedis();
    cleanup.push(() => redis.kill());
    await redis.start();
    const store = createRedisStore({ url: redis.url, commandTimeoutMs: TIMEOUT_MS });
    cleanup.push(() => store.close());
    expect(await store.set('k', 'v')).toBe(true);
    const admin = new Redis(redis.url);
    cleanup.push(() => admin.quit());
    // Stall every client's commands for a second, as a Redis stuck on a slow command would.
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const slow = await timed(() => store.get('k'));
    expect(slow.ok).toBe(false);
    expect(slow.ok ? undefined : slow.error).toBeInstanceOf(StateUnavailableError);
    expect((slow.ok ? undefined : (slow.error as Error))?.message).toBe(
      'state store unavailable during get: Command timed out',
    );
    expect(slow.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(slow.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    await waitFor(async () => (await store.get('k').catch(() => undefined)) === 'v', {
      what: 'Redis to answer again',
    });
  });
});
