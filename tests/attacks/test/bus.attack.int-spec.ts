import {
  CE_HEADERS,
  dlqTopic,
  Messages,
  platformTopics,
  REPLY_TOPICS,
  toCloudEventHeaders,
  toolRequestsTopic,
  Topics,
  type Headers,
} from '@toolbus/contracts';
import { DLQ_HEADERS } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { completedOf, infraFromEnv, toolCall, uniqueName, waitFor } from '@toolbus/testing';
import { consumerTestEnv, startToolCaller, type ToolCaller } from '@toolbus/testing-bus';
import { defineTool, runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
// The attacker is a rogue pod with a plain Kafka client, not the platform's bus; and the proof
// that nothing was written reads the topics raw, since a bus consumer would park what it cannot
// decode on their DLQs: kafkajs is the honest tool for both.
// eslint-disable-next-line no-restricted-imports
import kafkajs, { type IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/** A record as the raw reader sees it. */
interface Seen {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Headers;
}

function headersOf(raw: IHeaders | undefined): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(raw ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * The attacker controls one pod with access to a tool consumer's request topic. A request names
 * the topic its reply goes to, so a forged one could make the consumer write its reply to any
 * topic the consumer's credentials reach.
 */
describe('attack: the message bus', () => {
  const { kafkaBrokers } = infraFromEnv();
  const logger = createLogger({
    name: 'bus-attack',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  // A unique tool service keeps this consumer's request topic apart on the shared broker. The
  // responder is the tool SDK's, the one every tool consumer (crm, erp, the executors) runs.
  const service = uniqueName('bus-attack')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 40);
  const requests = toolRequestsTopic(service);
  const kafka = new kafkajs.Kafka({
    clientId: 'rogue-pod',
    brokers: kafkaBrokers,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const rogue = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  const echoed: string[] = [];
  const echo = defineTool({
    name: 'echo_note',
    title: 'Echo a note',
    description: 'Returns the note it was given.',
    input: z.object({ text: z.string().min(1).max(200) }),
    output: z.object({ text: z.string() }),
    scopes: [],
    annotations: { readOnlyHint: true, idempotentHint: true },
    handler: async (input) => {
      echoed.push(input.text);
      return { text: input.text };
    },
  });
  let caller: ToolCaller;
  let consumer: RunningToolConsumer;

  beforeAll(async () => {
    await Promise.all([admin.connect(), rogue.connect()]);
    caller = await startToolCaller({ logger, name: 'orch' });
    await caller.bus.ensureTopics(platformTopics([service]));
    consumer = await runToolConsumer(
      { service, tools: [echo] },
      { env: consumerTestEnv(service.replace(/-/g, '_')), logger },
    );
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.close();
    await Promise.all([rogue.disconnect(), admin.disconnect()]);
  });

  /** The end offset of each partition of a topic: what was written before this point. */
  const marks = async (topic: string) =>
    new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));

  /** Every record written to `topic` after `since`, up to what the topic holds now. */
  async function writtenSince(topic: string, since: Map<number, string>): Promise<Seen[]> {
    const until = await marks(topic);
    const left = [...until].filter(([p, high]) => Number(high) > Number(since.get(p) ?? '0'));
    if (left.length === 0) return [];
    const seen: Seen[] = [];
    const done = new Set<number>();
    const reader = kafka.consumer({ groupId: uniqueName('attack-reader'), maxWaitTimeInMs: 100 });
    await reader.connect();
    try {
      await reader.subscribe({ topics: [topic], fromBeginning: true });
      await reader.run({
        eachMessage: async ({ partition, message }) => {
          if (BigInt(message.offset) >= BigInt(since.get(partition) ?? '0')) {
            const headers = headersOf(message.headers);
            seen.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              headers,
            });
          }
          if (BigInt(message.offset) + 1n >= BigInt(until.get(partition) ?? '0'))
            done.add(partition);
        },
      });
      // Start at the marks rather than read the topic's whole retained history.
      for (const [partition, offset] of since) reader.seek({ topic, partition, offset });
      await waitFor(() => left.every(([p]) => done.has(p)), {
        what: `${topic} read up to its end`,
        timeoutMs: 30_000,
      });
    } finally {
      await reader.disconnect();
    }
    return seen;
  }

  const forge = async (replyto: string, replypartition: number, text: string) => {
    const call = toolCall('echo_note', { text });
    const correlationid = uniqueName('forged');
    await rogue.send({
      topic: requests,
      messages: [
        {
          key: call.idempotencyKey,
          value: JSON.stringify(call),
          headers: toCloudEventHeaders({
            specversion: '1.0',
            id: uniqueName('evt'),
            source: '/toolbus/orchestrator',
            type: Messages.toolCallRequested.type,
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            correlationid,
            replyto,
            replypartition,
            deadline: call.deadline,
          }),
        },
      ],
    });
    return correlationid;
  };

  it('a forged reply topic: the consumer writes nothing to toolbus.registry.changes or toolbus.audit, parks the request with the reason, and answers the next request', async () => {
    const watched = [Topics.registryChanges, Topics.audit, Topics.toolResponses];
    const before = new Map(
      await Promise.all(watched.map(async (t) => [t, await marks(t)] as const)),
    );
    const dlqBefore = await marks(dlqTopic(requests));

    const forged = new Map<string, string>([
      [await forge(Topics.registryChanges, 0, 'into the catalog'), Topics.registryChanges],
      [await forge(Topics.audit, 0, 'into the audit log'), Topics.audit],
      // An allowed topic, but a partition it does not have: refused as well, not retried forever.
      [await forge(Topics.toolResponses, 4096, 'off the partitions'), Topics.toolResponses],
    ]);
    // The legitimate call right after, from the orchestrator's side, is answered.
    const answer = await caller.call(service, toolCall('echo_note', { text: 'legitimate' }), {
      timeoutMs: 30_000,
    });
    expect(completedOf(answer).output).toEqual({ text: 'legitimate' });

    // Refused with a clear reason: each forged request is on the DLQ, untouched, saying why.
    const total = (m: Map<number, string>) => [...m.values()].reduce((n, o) => n + Number(o), 0);
    await waitFor(
      async () => total(await marks(dlqTopic(requests))) - total(dlqBefore) >= forged.size,
      { what: 'the three forged requests on the DLQ', timeoutMs: 30_000 },
    );
    const parked = (await writtenSince(dlqTopic(requests), dlqBefore)).filter((e) =>
      forged.has(e.headers[CE_HEADERS.correlationid] ?? ''),
    );
    expect(parked).toHaveLength(forged.size);
    const [responses] = (await admin.fetchTopicMetadata({ topics: [Topics.toolResponses] })).topics;
    const allowed = REPLY_TOPICS.join(', ');
    const reasons = new Map(
      parked.map((e) => [forged.get(e.headers[CE_HEADERS.correlationid]!), e.headers]),
    );
    expect(reasons.get(Topics.registryChanges)?.[DLQ_HEADERS.reason]).toBe(
      `ce_replyto "${Topics.registryChanges}" is not a reply topic; replies go only to ${allowed}`,
    );
    expect(reasons.get(Topics.audit)?.[DLQ_HEADERS.reason]).toBe(
      `ce_replyto "${Topics.audit}" is not a reply topic; replies go only to ${allowed}`,
    );
    expect(reasons.get(Topics.toolResponses)?.[DLQ_HEADERS.reason]).toBe(
      `ce_replypartition 4096 is out of range: ${Topics.toolResponses} has partitions 0 to ${responses!.partitions.length - 1}`,
    );
    for (const e of parked) {
      expect(e.headers[DLQ_HEADERS.error]).toBe('ReplyAddressError');
      expect(e.headers[DLQ_HEADERS.attempts]).toBe('1');
      expect(e.headers[DLQ_HEADERS.topic]).toBe(requests);
    }
    // The tool never ran for them.
    expect(echoed).toEqual(['legitimate']);

    // Nothing reached the topics they named: no record there carries a forged correlation id.
    for (const topic of watched) {
      const written = await writtenSince(topic, before.get(topic)!);
      const fromForged = written.filter((r) =>
        forged.has(r.headers[CE_HEADERS.correlationid] ?? ''),
      );
      expect(fromForged, `records on ${topic} answering a forged request`).toEqual([]);
    }
  });
});
