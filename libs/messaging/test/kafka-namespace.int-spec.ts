import { dlqTopic } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaBus, type TransportBus } from '../src/index.js';

const TYPE = 'dev.toolbus.test.work.v1';
const logger = createLogger({ name: 'bus-test', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/**
 * Two platforms on one Kafka cluster, each under its own namespace: the same topic names, the
 * same service and group names, and neither ever sees a message of the other.
 */
describe('Kafka namespaces', () => {
  const { kafkaBrokers } = infraFromEnv();
  const buses: TransportBus[] = [];
  const bus = (namespace: string, serviceName: string) => {
    const b = createKafkaBus({
      serviceName,
      brokers: kafkaBrokers,
      logger,
      shutdownDeadlineMs: 5_000,
      namespace,
    });
    buses.push(b);
    return b;
  };

  afterAll(async () => {
    for (const b of buses) await b.close(2_000).catch(() => undefined);
  });

  it('keeps each platform to its own topics and groups, requests and replies included', async () => {
    const requests = uniqueName('ns-requests');
    const replies = uniqueName('ns-replies');
    const [a, b] = [`${uniqueName('a')}.`, `${uniqueName('b')}.`];
    const specs = [requests, dlqTopic(requests), replies].map((name) => ({ name, partitions: 2 }));
    const served: Record<string, string[]> = { [a]: [], [b]: [] };
    for (const ns of [a, b]) {
      const responder = bus(ns, 'responder');
      await responder.ensureTopics(specs);
      // One group name for both: under one namespace each would take half of the other's work.
      await responder.respond<{ n: number }, { n: number; by: string }>(
        { topic: requests, groupId: 'responders', replyTopics: [replies] },
        async (m) => {
          served[ns]!.push(String(m.value.n));
          return { type: TYPE, value: { n: m.value.n, by: ns } };
        },
      );
    }
    const callers = [bus(a, 'caller'), bus(b, 'caller')];
    for (const c of callers) await c.prepareReplies(replies);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        callers[n % 2]!.request<{ n: number }, { n: number; by: string }>(
          requests,
          { type: TYPE, key: `k${n}`, value: { n } },
          { replyTopic: replies, timeoutMs: 30_000 },
        ),
      ),
    );
    answers.forEach((reply, n) => expect(reply.value).toEqual({ n, by: n % 2 ? b : a }));
    await waitFor(() => served[a]!.length + served[b]!.length === 20 || undefined, {
      what: 'every request served',
    });
    expect(served[a]!.map(Number).every((n) => n % 2 === 0)).toBe(true);
    expect(served[b]!.map(Number).every((n) => n % 2 === 1)).toBe(true);

    // On the brokers: the namespaced names, and never the bare one.
    const admin = new kafkajs.Kafka({ clientId: 'ns-test', brokers: kafkaBrokers }).admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(topics).toEqual(expect.arrayContaining([`${a}${requests}`, `${b}${replies}`]));
      expect(topics).not.toContain(requests);
      const { groups } = await admin.listGroups();
      expect(groups.map((g) => g.groupId)).toEqual(
        expect.arrayContaining([`${a}responders`, `${b}responders`]),
      );
      await admin.deleteTopics({
        topics: [a, b].flatMap((ns) => specs.map((s) => `${ns}${s.name}`)),
      });
    } finally {
      await admin.disconnect();
    }
  });
});
