import { createLogger } from '@toolbus/observability';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { busMetrics } from '../core/metrics.js';
import { ConsumerLagMonitor, type LagSource } from './consumer-lag.js';

const logger = createLogger({ name: 'lag-test', level: 'silent' });
let n = 0;
const group = () => `lag-spec-${++n}`;

/** The gauge's values for one group, by partition. */
async function lagOf(groupId: string): Promise<Record<string, number>> {
  const { values } = await busMetrics.consumerLag().get();
  return Object.fromEntries(
    values
      .filter((v) => v.labels['group'] === groupId)
      .map((v) => [v.labels['partition'], v.value]),
  );
}

function source(
  marks: Record<number, [low: number, high: number]>,
  commits: Record<number, number> = {},
): LagSource & { calls: number } {
  const s = {
    calls: 0,
    watermarks: async () => {
      s.calls++;
      return Object.entries(marks).map(([p, [low, high]]) => ({
        partition: Number(p),
        low: String(low),
        high: String(high),
      }));
    },
    committed: async () =>
      Object.entries(commits).map(([p, o]) => ({ partition: Number(p), offset: String(o) })),
  };
  return s;
}

afterEach(() => vi.useRealTimers());

describe('ConsumerLagMonitor', () => {
  it('moves with fetched and finished batches, without asking the broker', async () => {
    const src = source({});
    const monitor = new ConsumerLagMonitor(src, { intervalMs: 0, logger });
    const g = group();
    const lag = monitor.track(g, 'orders', true);
    lag.assigned([0]);
    lag.fetched(0, '10', '15');
    expect(await lagOf(g)).toEqual({ '0': 5 });
    lag.resolved(0, '12');
    expect(await lagOf(g)).toEqual({ '0': 2 });
    lag.resolved(0, '14');
    expect(await lagOf(g)).toEqual({ '0': 0 });
    expect(src.calls).toBe(0);
    lag.stop();
  });

  it("reports a stuck consumer's backlog from the broker, for the partitions it owns only", async () => {
    const src = source({ 0: [0, 10], 1: [0, 7] }, { 0: 4, 1: 2 });
    const monitor = new ConsumerLagMonitor(src, { intervalMs: 0, logger });
    const g = group();
    const lag = monitor.track(g, 'orders', true);
    lag.assigned([0]);
    await monitor.refresh();
    expect(await lagOf(g)).toEqual({ '0': 6 });
    lag.stop();
  });

  it('counts the whole log ahead of a new group that reads from the beginning, none for one at the end', async () => {
    const src = source({ 0: [3, 10] }, { 0: -1 });
    const monitor = new ConsumerLagMonitor(src, { intervalMs: 0, logger });
    const early = group();
    const late = group();
    monitor.track(early, 'orders', true).assigned([0]);
    monitor.track(late, 'orders', false).assigned([0]);
    await monitor.refresh();
    expect(await lagOf(early)).toEqual({ '0': 7 });
    expect(await lagOf(late)).toEqual({ '0': 0 });
    monitor.close();
    expect(await lagOf(early)).toEqual({});
  });

  it('takes revoked partitions and stopped consumers out of the gauge', async () => {
    const monitor = new ConsumerLagMonitor(source({ 0: [0, 5], 1: [0, 5] }), {
      intervalMs: 0,
      logger,
    });
    const g = group();
    const lag = monitor.track(g, 'orders', true);
    lag.assigned([0, 1]);
    await monitor.refresh();
    expect(await lagOf(g)).toEqual({ '0': 5, '1': 5 });
    lag.assigned([1]);
    expect(await lagOf(g)).toEqual({ '1': 5 });
    lag.stop();
    lag.assigned([0]);
    await monitor.refresh();
    expect(await lagOf(g)).toEqual({});
  });

  it('asks the broker on its interval while a consumer is tracked, and stops with the last one', async () => {
    vi.useFakeTimers();
    const src = source({ 0: [0, 1] });
    const monitor = new ConsumerLagMonitor(src, { intervalMs: 1_000, logger });
    const lag = monitor.track(group(), 'orders', true);
    lag.assigned([0]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(src.calls).toBe(3);
    lag.stop();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(src.calls).toBe(3);
  });

  it('keeps the last value when the broker cannot answer', async () => {
    let fail = false;
    const src: LagSource = {
      watermarks: async () => {
        if (fail) throw new Error('broker away');
        return [{ partition: 0, low: '0', high: '9' }];
      },
      committed: async () => [{ partition: 0, offset: '1' }],
    };
    const monitor = new ConsumerLagMonitor(src, { intervalMs: 0, logger });
    const g = group();
    const lag = monitor.track(g, 'orders', true);
    lag.assigned([0]);
    await monitor.refresh();
    fail = true;
    await expect(monitor.refresh()).resolves.toBeUndefined();
    expect(await lagOf(g)).toEqual({ '0': 8 });
    lag.stop();
  });
});
