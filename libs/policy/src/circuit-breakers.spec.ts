import { metricsRegistry } from '@toolbus/observability';
import { createMemoryStore } from '@toolbus/state';
import { waitFor } from '@toolbus/testing';
import { describe, expect, it } from 'vitest';
import { toolDef } from '../test/fixtures.js';
import { resultCacheKey, ToolBreakers, type ToolBreakersOptions } from './circuit-breakers.js';

const cacheable = toolDef({ name: 'get_credit_limit', cacheTtlSeconds: 300 });
const writer = toolDef({
  name: 'update_credit_limit',
  annotations: { readOnlyHint: false, destructiveHint: true },
  cacheTtlSeconds: 300,
});
const readOnlyNoTtl = toolDef({ name: 'get_orders', cacheTtlSeconds: 0 });

function setup(overrides: Partial<ToolBreakersOptions> = {}) {
  const clock = { now: Date.UTC(2026, 6, 1) };
  const store = createMemoryStore();
  const breakers = new ToolBreakers({
    store,
    failureRatio: 0.5,
    windowMs: 1_000,
    minimumCalls: 4,
    halfOpenAfterMs: 150,
    clock: () => clock.now,
    ...overrides,
  });
  return { clock, store, breakers };
}

const fail = () => Promise.reject(new Error('upstream down'));

/** Fails calls until the tool's breaker opens; returns how many failures it took. */
async function trip(breakers: ToolBreakers, tool = cacheable, input = { customer_id: 'x' }) {
  let failures = 0;
  while (breakers.state(tool.name) === 'closed' && failures < 50) {
    await expect(breakers.run(tool, input, fail)).rejects.toThrow('upstream down');
    failures++;
  }
  return failures;
}

async function gauge(tool: string): Promise<number | undefined> {
  const m = await metricsRegistry().getSingleMetric('toolbus_tool_breaker_open')!.get();
  return m.values.find((v) => v.labels['tool'] === tool)?.value;
}

describe('ToolBreakers', () => {
  it('opens after the failure ratio over the window, with the minimum number of calls', async () => {
    const { breakers } = setup();
    const input = { customer_id: 'acme-1' };
    expect(await breakers.run(cacheable, input, async () => ({ limit: 1 }))).toEqual({
      outcome: 'fresh',
      result: { limit: 1 },
    });
    expect(await gauge('get_credit_limit')).toBe(0);
    // 1 success + 3 failures = 4 calls (the minimum), 3 > 0.5 × 4: open.
    expect(await trip(breakers, cacheable, input)).toBe(3);
    expect(breakers.state('get_credit_limit')).toBe('open');
    expect(await gauge('get_credit_limit')).toBe(1);
  });

  it('answers a cacheable read-only tool from the cache while open, marked stale with its age', async () => {
    const { clock, breakers } = setup();
    const input = { customer_id: 'acme-1', currency: 'EUR' };
    await breakers.run(cacheable, input, async () => ({ limit: 50_000 }));
    clock.now += 4_000;
    await trip(breakers);
    clock.now += 1_000;
    let dispatched = 0;
    const stale = await breakers.run(
      cacheable,
      { currency: 'EUR', customer_id: 'acme-1' },
      async () => {
        dispatched++;
        return { limit: 0 };
      },
    );
    expect(stale).toEqual({
      outcome: 'stale',
      result: { limit: 50_000 },
      ageMs: 5_000,
      cachedAt: new Date(clock.now - 5_000).toISOString(),
    });
    expect(dispatched).toBe(0);
    // Other arguments have no cached answer: fail fast.
    const miss = await breakers.run(cacheable, { customer_id: 'other' }, async () => ({}));
    expect(miss).toMatchObject({
      outcome: 'refused',
      refusal: {
        code: 'breaker_open',
        errorClass: 'unavailable',
        retryable: true,
        message: expect.stringContaining('no cached answer for these arguments is at hand'),
      },
    });
  });

  it.each([
    ['a tool that writes', writer],
    ['a read-only tool without a cache TTL', readOnlyNoTtl],
  ])('fails fast for %s, without calling it', async (_what, tool) => {
    const { breakers } = setup();
    await breakers.run(tool, { customer_id: 'x' }, async () => ({ ok: true }));
    await trip(breakers, tool);
    let dispatched = 0;
    const refused = await breakers.run(tool, { customer_id: 'x' }, async () => {
      dispatched++;
      return { ok: true };
    });
    expect(dispatched).toBe(0);
    expect(refused).toEqual({
      outcome: 'refused',
      refusal: {
        kind: 'refuse',
        step: 'breaker',
        code: 'breaker_open',
        errorClass: 'unavailable',
        retryable: true,
        retryAfterMs: 150,
        message: `The tool ${tool.name} is failing, so calls to it are paused. It will be tried again in 0.2 s.`,
      },
    });
  });

  it('closes after a good half-open probe, and reopens after a bad one', async () => {
    const { breakers } = setup();
    await trip(breakers, writer);
    // After halfOpenAfterMs one probe passes; a failing probe opens the breaker again.
    await waitFor(
      async () => {
        const r = await breakers.run(writer, {}, fail).catch((e: Error) => e);
        return r instanceof Error;
      },
      { what: 'a failing probe', intervalMs: 10 },
    );
    expect(breakers.state(writer.name)).toBe('open');
    const probe = await waitFor(
      async () => {
        const r = await breakers.run(writer, {}, async () => 'ok');
        return r.outcome === 'fresh' ? r : undefined;
      },
      { what: 'a good probe', intervalMs: 10 },
    );
    expect(probe).toEqual({ outcome: 'fresh', result: 'ok' });
    expect(breakers.state(writer.name)).toBe('closed');
    expect(await gauge(writer.name)).toBe(0);
  });

  it('does not count what isFailure excludes, and counts failed results without caching them', async () => {
    const { store, breakers } = setup({
      isFailure: (o) =>
        'error' in o
          ? (o.error as { retryable?: boolean }).retryable !== false
          : (o.result as { failed?: boolean }).failed === true,
    });
    const business = Object.assign(new Error('customer not found'), { retryable: false });
    for (let i = 0; i < 10; i++)
      await expect(breakers.run(cacheable, {}, () => Promise.reject(business))).rejects.toBe(
        business,
      );
    expect(breakers.state(cacheable.name)).toBe('closed');
    for (let i = 0; i < 10 && breakers.state(cacheable.name) === 'closed'; i++)
      expect(await breakers.run(cacheable, { n: i }, async () => ({ failed: true }))).toMatchObject(
        {
          outcome: 'fresh',
        },
      );
    expect(breakers.state(cacheable.name)).toBe('open');
    expect(await store.get(resultCacheKey(cacheable, { n: 0 }))).toBeUndefined();
  });

  it('still answers when the cache cannot be written, and says so', async () => {
    const errors: string[] = [];
    const { store, breakers } = setup({ onCacheError: (_e, tool) => errors.push(tool) });
    await store.close();
    expect(await breakers.run(cacheable, {}, async () => 1)).toEqual({
      outcome: 'fresh',
      result: 1,
    });
    expect(errors).toEqual(['get_credit_limit']);
  });

  it('keys the cache by tool, version and canonical arguments', () => {
    const a = resultCacheKey(cacheable, { x: 1, y: { b: 2, a: 1 } });
    expect(a).toBe(resultCacheKey(cacheable, { y: { a: 1, b: 2 }, x: 1 }));
    expect(a).toMatch(/^cache:get_credit_limit:1\.0\.0:[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(resultCacheKey(toolDef({ version: '1.0.1' }), { x: 1, y: { b: 2, a: 1 } }));
  });

  it.each([
    [{ failureRatio: 1 }, 'failureRatio must be between 0 and 1 (exclusive), got 1'],
    [{ windowMs: 0 }, 'windowMs must be a positive integer, got 0'],
    [{ halfOpenAfterMs: 1.5 }, 'halfOpenAfterMs must be a positive integer, got 1.5'],
  ])('refuses bad options %j', (options, message) => {
    expect(() => setup(options)).toThrow(message);
  });
});
