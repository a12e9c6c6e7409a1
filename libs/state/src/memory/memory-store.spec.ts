import { describe, expect, it } from 'vitest';
import { createMemoryStore, MemoryStateBackend } from './memory-store.js';

/** A store on a clock the test moves, so windows and TTLs are exact to the millisecond. */
function onClock(start = 1_000_000) {
  const clock = { now: start };
  const backend = new MemoryStateBackend({ clock: () => clock.now });
  return { clock, backend, store: createMemoryStore({ backend }) };
}

describe('memory StateStore on a controlled clock', () => {
  it.each([
    // [limit, cost, call times (ms after start), expected retryAfterMs of the refused call at t=30]
    [2, 1, [0, 10], 970],
    [3, 1, [0, 10, 20], 970],
    [3, 2, [0, 10, 20], 980], // two units must leave: the second oldest decides
    [4, 3, [0, 10, 20, 25], 990], // three must leave: the third oldest (20 ms) decides
  ])(
    'limit %i, cost %i after calls at %j: refused at 30 ms with retryAfterMs %i',
    async (limit, cost, times, expected) => {
      const { clock, store } = onClock();
      const start = clock.now;
      for (const t of times) {
        clock.now = start + t;
        expect((await store.consume('q', { limit, windowMs: 1_000 })).allowed).toBe(true);
      }
      clock.now = start + 30;
      const refused = await store.consume('q', { limit, windowMs: 1_000, cost });
      expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: expected });
      clock.now += expected - 1;
      expect((await store.consume('q', { limit, windowMs: 1_000, cost })).allowed).toBe(false);
      clock.now += 1;
      expect((await store.consume('q', { limit, windowMs: 1_000, cost })).allowed).toBe(true);
    },
  );

  it('expires values, counters, lists and once-flags at their TTL to the millisecond', async () => {
    const { clock, store } = onClock();
    await store.set('v', 'x', { ttlMs: 100 });
    await store.increment('c', 1, { ttlMs: 100 });
    await store.listAppend('l', ['a'], { maxLength: 5, ttlMs: 100 });
    await store.once('o', 100);
    clock.now += 50;
    await store.listAppend('l', ['b'], { maxLength: 5, ttlMs: 100 }); // refreshes the list only
    await store.increment('c', 1, { ttlMs: 100 }); // never extends the counter
    clock.now += 49;
    expect(await store.get('v')).toBe('x');
    expect(await store.once('o', 100)).toBe(false);
    clock.now += 1;
    expect(await store.get('v')).toBeUndefined();
    expect(await store.readCounters(['c'])).toEqual({ c: 0 });
    expect(await store.once('o', 100)).toBe(true);
    expect(await store.listRange('l')).toEqual(['a', 'b']);
    clock.now += 50;
    expect(await store.listRange('l')).toEqual([]);
  });

  it('forgets expired entries, so memory stays bounded by what is live', async () => {
    const { clock, backend, store } = onClock();
    for (let i = 0; i < 5_000; i++) await store.consume(`q${i}`, { limit: 5, windowMs: 1_000 });
    expect(backend.size()).toBe(5_000);
    clock.now += 1_000;
    expect(backend.size()).toBe(0);
  });

  it('names the key and its kind when an operation meets a key of another kind', async () => {
    const { store } = onClock();
    await store.set('v', 'not a number');
    await store.listAppend('l', ['x'], { maxLength: 1, ttlMs: 1_000 });
    await expect(store.increment('v', 1)).rejects.toThrow(
      'increment: key v holds "not a number", not a counter',
    );
    await expect(store.get('l')).rejects.toThrow('get: key l holds a list, not what get expects');
    await expect(store.consume('l', { limit: 1, windowMs: 1 })).rejects.toThrow(
      'consume: key l holds a list',
    );
  });

  it('refuses a counter that would leave the safe integer range', async () => {
    const { store } = onClock();
    await store.increment('c', Number.MAX_SAFE_INTEGER);
    await expect(store.increment('c', 1)).rejects.toThrow(
      'increment: counter c would leave the safe integer range',
    );
  });
});
