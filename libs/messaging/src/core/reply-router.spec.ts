import { CE_HEADERS } from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import { ReplyRouteLostError } from './errors.js';
import { ReplyRouter } from './reply-router.js';
import { PendingRequest } from './request-reply.js';

const hooks = {
  resolveOffset: () => undefined,
  heartbeat: async () => undefined,
  isStale: () => false,
};

describe('ReplyRouter', () => {
  it('fails the requests waiting on a partition taken away at once, and keeps the others waiting', async () => {
    const router = new ReplyRouter('replies');
    router.onAssign([3, 0, 5]);
    expect(router.homePartition()).toBe(0);
    const onHome = new PendingRequest('requests', 60_000);
    const home = onHome.awaitReply(router);
    expect(home.partition).toBe(0);
    // A request that waits on partition 5 (sent before a rebalance made 0 this instance's home).
    const onFive = new PendingRequest('requests', 60_000);
    const five = new Promise((resolve, reject) =>
      router.pending.set(onFive.correlationid, { partition: 5, resolve, reject }),
    );

    const started = performance.now();
    router.onAssign([5, 7]);
    const error = await home.reply.catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(100);
    expect(error).toBeInstanceOf(ReplyRouteLostError);
    expect((error as Error).message).toBe(
      'reply partition replies[0] was reassigned while waiting; retry the request',
    );
    expect(router.pending.has(onHome.correlationid)).toBe(false);
    // The new home is the lowest partition left; a reply on 5 still reaches its waiter.
    expect(router.homePartition()).toBe(5);
    await router.handleBatch(
      [
        {
          topic: 'replies',
          partition: 5,
          offset: '0',
          key: null,
          value: Buffer.from('{}'),
          headers: { [CE_HEADERS.correlationid]: onFive.correlationid },
        },
      ],
      hooks,
    );
    await expect(five).resolves.toMatchObject({ partition: 5 });
    expect(router.orphans).toBe(0);
    onHome.dispose();
    onFive.dispose();
  });

  it('says so when an instance is left without any partition', () => {
    const router = new ReplyRouter('replies');
    router.onAssign([]);
    expect(() => router.homePartition()).toThrow(ReplyRouteLostError);
    expect(() => router.homePartition()).toThrow(
      'this instance holds no partition of replies since a rebalance (more instances than partitions?); retry the request',
    );
  });
});
