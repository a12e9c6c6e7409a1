import { uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateUnavailableError, type StateStore } from '../src/index.js';
import { memoryHarness, redisHarness, type StateHarness } from './harness.js';

/**
 * The one contract both StateStore implementations keep. The in-memory store runs the
 * embedded mode, Redis every other; if a behaviour matters to the orchestrator (quotas shared
 * exactly by replicas, a warning published once), it is asserted here for both.
 */
const adapters: Array<[string, () => StateHarness]> = [
  ['memory', memoryHarness],
  ['redis', redisHarness],
];

const key = () => uniqueName('k');

describe.each(adapters)('StateStore contract: %s', (_name, makeHarness) => {
  let h: StateHarness;
  let a: StateStore;
  let b: StateStore;
  beforeAll(() => {
    h = makeHarness();
    [a, b] = [h.store(), h.store()];
  });
  afterAll(() => h.close());

  it('gets, sets and deletes values, seen by every replica', async () => {
    const k = key();
    expect(await a.get(k)).toBeUndefined();
    expect(await a.set(k, 'v1')).toBe(true);
    expect(await b.get(k)).toBe('v1');
    expect(await b.set(k, 'v2')).toBe(true);
    expect(await a.get(k)).toBe('v2');
    expect(await a.delete(k)).toBe(true);
    expect(await b.delete(k)).toBe(false);
    expect(await b.get(k)).toBeUndefined();
  });

  it('expires a value after its TTL', async () => {
    const k = key();
    await a.set(k, 'soon gone', { ttlMs: 80 });
    expect(await b.get(k)).toBe('soon gone');
    await waitFor(async () => (await b.get(k)) === undefined, { what: 'the value to expire' });
  });

  it('sets if absent for exactly one of many concurrent writers', async () => {
    const k = key();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).set(k, `w${i}`, { ifAbsent: true, ttlMs: 60_000 }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await a.get(k)).toBe(`w${winner}`);
  });

  it('allows exactly the limit across replicas, and refuses the next call with the time until a slot opens', async () => {
    const k = key();
    const windowMs = 60_000;
    const started = Date.now();
    const decisions = await Promise.all(
      Array.from({ length: 501 }, (_, i) => (i % 2 ? a : b).consume(k, { limit: 500, windowMs })),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(500);
    const refused = decisions.filter((d) => !d.allowed);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.remaining).toBe(0);
    // The first counted call leaves the window one minute after it was counted.
    expect(refused[0]!.retryAfterMs).toBeGreaterThan(windowMs - (Date.now() - started) - 50);
    expect(refused[0]!.retryAfterMs).toBeLessThanOrEqual(windowMs);
    expect(new Set(decisions.filter((d) => d.allowed).map((d) => d.remaining)).size).toBe(500);
    // Refused calls do not count: still refused, still the same wait (minus the time passed).
    const again = await a.consume(k, { limit: 500, windowMs });
    expect(again.allowed).toBe(false);
    expect(again.retryAfterMs).toBeLessThanOrEqual(refused[0]!.retryAfterMs);
  });

  it('is refused exactly until retryAfterMs has passed, and allowed right after', async () => {
    const k = key();
    const options = { limit: 2, windowMs: 700 };
    expect((await a.consume(k, options)).allowed).toBe(true);
    expect((await b.consume(k, options)).allowed).toBe(true);
    const refused = await a.consume(k, options);
    const refusedAt = Date.now();
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: expect.any(Number) });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(700);
    // Polling costs nothing: refused calls are not counted.
    const allowed = await waitFor(
      async () => {
        const d = await b.consume(k, options);
        return d.allowed ? { d, at: Date.now() } : undefined;
      },
      { what: 'the next slot', intervalMs: 5 },
    );
    const waited = allowed.at - refusedAt;
    expect(waited).toBeGreaterThanOrEqual(refused.retryAfterMs - 25);
    expect(waited).toBeLessThanOrEqual(refused.retryAfterMs + 150);
    // Both counted calls may have left by then (they were counted within a millisecond or so).
    expect(allowed.d.remaining).toBeLessThanOrEqual(1);
  });

  it('counts a call by its cost', async () => {
    const k = key();
    const options = { limit: 5, windowMs: 60_000 };
    expect(await a.consume(k, { ...options, cost: 3 })).toEqual({
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
    });
    const refused = await b.consume(k, { ...options, cost: 3 });
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(2);
    expect((await b.consume(k, { ...options, cost: 2 })).remaining).toBe(0);
  });

  it('counts a call against several windows in all of them or in none', async () => {
    const tool = key();
    const tenant = key();
    const windows = [
      { key: tool, limit: 10, windowMs: 60_000 },
      { key: tenant, limit: 2, windowMs: 60_000 },
    ];
    expect((await a.consumeAll(windows)).allowed).toBe(true);
    expect((await b.consumeAll(windows)).allowed).toBe(true);
    const refused = await a.consumeAll(windows);
    expect(refused.allowed).toBe(false);
    expect(refused.windows.map((w) => w.allowed)).toEqual([true, false]);
    expect(refused.retryAfterMs).toBe(refused.windows[1]!.retryAfterMs);
    // The refused call did not count against the tool's window.
    expect((await b.consume(tool, { limit: 10, windowMs: 60_000 })).remaining).toBe(7);
  });

  it('increments counters exactly under concurrency and reads several at once', async () => {
    const [spent, calls, absent] = [key(), key(), key()];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).increment(spent, 1_250_000)),
    );
    expect(await a.increment(calls, 3)).toBe(3);
    expect(await b.increment(calls, -1)).toBe(2);
    expect(await a.readCounters([spent, calls, absent])).toEqual({
      [spent]: 250_000_000,
      [calls]: 2,
      [absent]: 0,
    });
    expect(await a.readCounters([])).toEqual({});
  });

  it('raises a counter to a running total and never lowers it, whatever order totals arrive in', async () => {
    const [k, absent] = [key(), key()];
    const totals = Array.from({ length: 50 }, (_, i) => (i + 1) * 1_000);
    // Replicas report totals out of order: the newest (largest) wins.
    await Promise.all([...totals].reverse().map((t, i) => (i % 2 ? a : b).raise(k, t)));
    expect((await a.readCounters([k]))[k]).toBe(50_000);
    expect(await b.raise(k, 20_000)).toBe(50_000);
    expect(await b.raise(k, 50_001)).toBe(50_001);
    // Raising an absent counter to 0 creates it: it is then known to be 0, not unknown.
    expect(await a.get(absent)).toBeUndefined();
    expect(await a.raise(absent, 0, { ttlMs: 60_000 })).toBe(0);
    expect(await b.get(absent)).toBe('0');
    await expect(a.raise(k, -1)).rejects.toThrow(
      'raise: value must be a non-negative safe integer, got -1',
    );
  });

  it('gives a raised counter its TTL on creation and never extends it', async () => {
    const k = key();
    await a.raise(k, 5, { ttlMs: 300 });
    await b.raise(k, 7, { ttlMs: 60_000 });
    expect((await a.readCounters([k]))[k]).toBe(7);
    await waitFor(async () => (await a.get(k)) === undefined, {
      what: 'the raised counter to expire',
    });
  });

  it('gives a counter its TTL on creation and never extends it', async () => {
    const k = key();
    await a.increment(k, 1, { ttlMs: 300 });
    const createdAt = Date.now();
    await b.increment(k, 1, { ttlMs: 60_000 });
    expect((await a.readCounters([k]))[k]).toBe(2);
    await waitFor(async () => (await a.readCounters([k]))[k] === 0, {
      what: 'the counter to expire',
    });
    expect(Date.now() - createdAt).toBeLessThan(5_000);
  });

  it('keeps a bounded list, returning what fell off the front so it can be summarised', async () => {
    const k = key();
    const opts = { maxLength: 3, ttlMs: 60_000 };
    expect(await a.listAppend(k, ['t1', 't2'], opts)).toEqual({ length: 2, dropped: [] });
    expect(await b.listAppend(k, ['t3', 't4', 't5'], opts)).toEqual({
      length: 3,
      dropped: ['t1', 't2'],
    });
    expect(await a.listRange(k)).toEqual(['t3', 't4', 't5']);
    expect(await a.listRange(k, { start: -2 })).toEqual(['t4', 't5']);
    expect(await a.listRange(k, { start: 0, stop: 0 })).toEqual(['t3']);
    expect(await a.listRange(k, { start: 5 })).toEqual([]);
    expect(await a.listAppend(k, [], opts)).toEqual({ length: 3, dropped: [] });
    await b.listReplace(k, ['summary of t1..t4', 't5'], opts);
    expect(await a.listRange(k)).toEqual(['summary of t1..t4', 't5']);
    await expect(a.listReplace(k, ['1', '2', '3', '4'], opts)).rejects.toThrow(
      'listReplace: 4 entries exceed maxLength 3; summarise first',
    );
    expect(await a.listRange(key())).toEqual([]);
    await a.listReplace(k, [], opts);
    expect(await a.listRange(k)).toEqual([]);
  });

  it('expires a list a TTL after its last write', async () => {
    const k = key();
    await a.listAppend(k, ['x'], { maxLength: 10, ttlMs: 100 });
    await waitFor(async () => (await b.listRange(k)).length === 0, {
      what: 'the list to expire',
    });
  });

  it('answers once true for exactly one of many concurrent callers, again after the TTL', async () => {
    const k = key();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).once(k, 150)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.once(k, 150)).toBe(false);
    await waitFor(() => b.once(k, 60_000), { what: 'the once flag to expire' });
  });

  it('keeps deployments apart by key prefix', async () => {
    const other = h.store({ keyPrefix: `${uniqueName('other')}:` });
    const k = key();
    await a.set(k, 'mine');
    await a.increment(`${k}:n`, 5);
    expect(await other.get(k)).toBeUndefined();
    expect((await other.readCounters([`${k}:n`]))[`${k}:n`]).toBe(0);
    expect((await other.consume(k, { limit: 1, windowMs: 60_000 })).allowed).toBe(true);
    await other.close();
  });

  it('refuses bad arguments before doing anything, naming what was wrong', async () => {
    const k = key();
    await expect(a.consume(k, { limit: 0, windowMs: 1_000 })).rejects.toThrow(
      'consume: limit must be a positive integer, got 0',
    );
    await expect(a.consume(k, { limit: 2, windowMs: 1_000, cost: 3 })).rejects.toThrow(
      `consume: cost 3 can never fit in a limit of 2 (key ${k}), got 3`,
    );
    await expect(a.consume(k, { limit: 2, windowMs: 1.5 })).rejects.toThrow(
      'consume: windowMs must be a positive integer, got 1.5',
    );
    await expect(a.increment(k, 0.5)).rejects.toThrow(
      'increment: by must be a safe integer (money is counted in micro-units), got 0.5',
    );
    await expect(a.set('', 'x')).rejects.toThrow('set: key must be a non-empty string');
    await expect(a.set(k, 'x', { ttlMs: -1 })).rejects.toThrow(
      'set: ttlMs must be a positive integer, got -1',
    );
    await expect(
      a.listAppend(k, [42 as unknown as string], { maxLength: 1, ttlMs: 1_000 }),
    ).rejects.toThrow('listAppend: every entry must be a string, got 42');
    await expect(a.once(k, 0)).rejects.toThrow('once: ttlMs must be a positive integer, got 0');
    expect(await a.get(k)).toBeUndefined();
  });

  it('refuses an operation on a key of another kind without calling it an outage', async () => {
    const k = key();
    await a.listAppend(k, ['x'], { maxLength: 5, ttlMs: 60_000 });
    const error = await a.increment(k, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(StateUnavailableError);
    expect((error as Error).message).toMatch(/^(state store refused )?increment: .*/);
  });

  it('reports health, and fails with StateUnavailableError once closed', async () => {
    const store = h.store();
    expect(await store.isHealthy()).toBe(true);
    await store.close();
    expect(await store.isHealthy()).toBe(false);
    const error = await store.get(key()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateUnavailableError);
    expect((error as StateUnavailableError).message).toBe(
      'state store unavailable during get: the store is closed',
    );
  });
});
