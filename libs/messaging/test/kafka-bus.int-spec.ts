import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyRouteLostError, type TransportBus } from '../src/index.js';
import { stickyAssigner } from '../src/kafka/sticky-assigner.js';
import { kafkaHarness, type BusHarness } from './harness.js';

const TYPE = 'dev.toolbus.test.work.v1';

describe('Kafka bus under load and failure', () => {
  let h: BusHarness;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    h = kafkaHarness();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await h.close();
  });

  it('two responder instances answer 1,000 concurrent requests and every caller gets its own reply, without broadcast', async () => {
    const requests = await h.topic(4);
    const replies = await h.topic(16);
    const responderGroup = uniqueName('responders');
    const served = [0, 0];
    for (const i of [0, 1]) {
      await h
        .bus('responder')
        .respond<{ n: number; caller: string }, { n: number; caller: string; by: number }>(
          { topic: requests, groupId: responderGroup, concurrency: 32, replyTopics: [replies] },
          async (m) => {
            served[i]!++;
            return { type: TYPE, value: { ...m.value, by: i } };
          },
        );
    }
    const service = uniqueName('caller');
    const callers = [h.bus(service) as TransportBus, h.bus(service) as TransportBus];
    for (const c of callers) await c.prepareReplies(replies);
    // Both callers re-settle after the second joined; wait until they split the partitions.
    await waitFor(
      async () => {
        const stats = await Promise.all(callers.map((c) => c.replyRouteStats(replies)));
        const owned = stats.flatMap((s) => s?.owned ?? []);
        return (
          owned.length === 16 &&
          new Set(owned).size === 16 &&
          stats.every((s) => (s?.owned.length ?? 0) > 0)
        );
      },
      { what: 'the two callers to share the 16 reply partitions', timeoutMs: 30_000 },
    );
    const sent = [0, 0];
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => {
        const which = n % 2;
        sent[which]!++;
        return callers[which]!.request<
          { n: number; caller: string },
          { n: number; caller: string; by: number }
        >(
          requests,
          { type: TYPE, key: `k-${n}`, value: { n, caller: `c${which}` } },
          { replyTopic: replies, timeoutMs: 30_000 },
        ).then((reply) => ({ n, which, reply: reply.value }));
      }),
    );
    for (const { n, which, reply } of results)
      expect(reply).toMatchObject({ n, caller: `c${which}` });
    expect(served[0]! + served[1]!).toBe(1000);
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    // Each caller read only the replies addressed to its own partitions: no broadcast.
    for (const which of [0, 1]) {
      const stats = await callers[which]!.replyRouteStats(replies);
      expect(stats?.received).toBe(sent[which]);
      expect(stats?.orphans).toBe(0);
      expect(stats?.pending).toBe(0);
    }
  });

  it('fails the requests waiting on a reply partition taken away in a rebalance with ReplyRouteLostError at once, and a retry is answered on the new home', async () => {
    const requests = await h.topic();
    const replies = await h.topic(4);
    const service = uniqueName('caller');
    const caller = h.bus(service) as TransportBus;
    await caller.prepareReplies(replies);
    expect((await caller.replyRouteStats(replies))?.owned).toEqual([0, 1, 2, 3]);
    // Nobody answers yet: the requests wait on the home partition, 0.
    const started = Date.now();
    const waiting = Array.from({ length: 5 }, (_, n) =>
      caller
        .request(requests, { type: TYPE, value: { n } }, { replyTopic: replies, timeoutMs: 60_000 })
        .catch((e: unknown) => e),
    );
    await waitFor(async () => (await caller.replyRouteStats(replies))?.pending === 5, {
      what: 'five requests waiting',
    });
    // The sticky assignment never takes a home partition from a live member, so the test brings
    // a member that claims partition 0 and sorts before the caller (its client id does), as a
    // zombie of an earlier owner would: the rebalance its join starts gives it partition 0.
    const claimer = new kafkajs.Kafka({
      clientId: '0-claimer',
      brokers: infraFromEnv().kafkaBrokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).consumer({
      groupId: `${service}.${replies}.replies`,
      partitionAssigners: [stickyAssigner({ topic: replies, partitions: [0] })],
      sessionTimeout: 6_000,
      maxWaitTimeInMs: 100,
    });
    let claimed: number[] = [];
    claimer.on(claimer.events.GROUP_JOIN, (e) => {
      claimed = e.payload.memberAssignment[replies] ?? [];
    });
    try {
      await claimer.connect();
      await claimer.subscribe({ topics: [replies] });
      await claimer.run({ eachMessage: async () => undefined });
      const errors = await Promise.all(waiting);
      const failedAfter = Date.now() - started;
      for (const error of errors) {
        expect(error).toBeInstanceOf(ReplyRouteLostError);
        expect((error as Error).message).toBe(
          `reply partition ${replies}[0] was reassigned while waiting; retry the request`,
        );
      }
      // At the rebalance (a few seconds), not at the 60 s timeout.
      expect(failedAfter).toBeLessThan(20_000);
      await waitFor(() => claimed.includes(0), { what: 'the claimer to hold partition 0' });
      const stats = await caller.replyRouteStats(replies);
      expect(stats?.owned).not.toContain(0);
      expect(stats?.pending).toBe(0);
      await h
        .bus('responder')
        .respond<{ n: number }, { n: number }>(
          { topic: requests, groupId: uniqueName('responders'), replyTopics: [replies] },
          async (m) => ({ type: TYPE, value: m.value }),
        );
      const retried = await caller.request<{ n: number }, { n: number }>(
        requests,
        { type: TYPE, value: { n: 99 } },
        { replyTopic: replies, timeoutMs: 30_000 },
      );
      expect(retried.value).toEqual({ n: 99 });
    } finally {
      await claimer.disconnect();
    }
  });

  it('redelivers the messages of a consumer killed mid-handler to the other instance; nothing is lost', async () => {
    const topic = await h.topic();
    const groupId = uniqueName('g');
    const fixture = join(import.meta.dirname, 'fixtures', 'stuck-consumer.mjs');
    const child = spawn(process.execPath, [fixture, topic, groupId], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('SUBSCRIBED'), {
      what: 'the child consumer to subscribe',
      timeoutMs: 30_000,
    });
    const publisher = h.bus();
    await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        publisher.publish(topic, { type: TYPE, key: `order-${n}`, value: { n } }),
      ),
    );
    // Killed with at least one handler running (and maybe some messages not yet fetched).
    await waitFor(() => out.includes('STARTED'), {
      what: 'the child to start handling',
      timeoutMs: 30_000,
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const handled = new Set<number>();
    await h.bus().subscribe<{ n: number }>({ topic, groupId }, async (m) => {
      handled.add(m.value.n);
    });
    await waitFor(() => handled.size === 5, {
      what: 'the survivor to handle all five',
      timeoutMs: 40_000,
    });
    expect([...handled].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('a slow handler at concurrency 4 never has more than 4 in flight while 10,000 messages wait, and buffers a bounded few', async () => {
    const topic = await h.topic(1);
    const bus = h.bus();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, n) =>
        bus.publish(topic, { type: TYPE, value: { n, pad: 'x'.repeat(64) } }),
      ),
    );
    let handled = 0;
    const sub = await bus.subscribe(
      { topic, groupId: uniqueName('g'), concurrency: 4 },
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        handled++;
      },
    );
    await waitFor(() => handled >= 200, { what: '200 handled', timeoutMs: 60_000 });
    const stats = sub.stats();
    await sub.stop(2_000);
    expect(stats.maxInFlight).toBe(4);
    // One fetch of 256 KiB holds well under 2,000 of these; the other ~9,800 stay in Kafka.
    expect(stats.maxBuffered).toBeLessThan(2_000);
    expect(stats.maxBuffered).toBeGreaterThan(4);
    expect(handled).toBeLessThan(2_000);
  });
});
