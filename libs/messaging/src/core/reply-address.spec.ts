import { CE_HEADERS, dlqTopic, REPLY_TOPICS, Topics } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { waitFor } from '@toolbus/testing';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../memory/memory-bus.js';
import { MemoryBroker } from '../memory/memory-transport.js';
import { PoisonMessageError, ReplyAddressError } from './errors.js';
import { ReplyTopics } from './reply-address.js';
import { DLQ_HEADERS } from './subscription.js';

const request = (replyto?: string, partition?: string) => ({
  [CE_HEADERS.correlationid]: 'c-1',
  ...(replyto === undefined ? {} : { [CE_HEADERS.replyto]: replyto }),
  ...(partition === undefined ? {} : { [CE_HEADERS.replypartition]: partition }),
});

describe('ReplyTopics', () => {
  const counts = new Map<string, number>(REPLY_TOPICS.map((t) => [t, 16]));
  const lookups: string[] = [];
  const topics = new ReplyTopics(REPLY_TOPICS, async (t) => {
    lookups.push(t);
    const n = counts.get(t);
    if (n === undefined) throw new Error(`topic ${t} does not exist`);
    return n;
  });

  it('accepts the platform reply topics, with or without a partition', () => {
    expect(topics.address(request(Topics.toolResponses, '7'))).toEqual({
      correlationid: 'c-1',
      replyto: Topics.toolResponses,
      partition: 7,
    });
    expect(topics.address(request(Topics.askReplies))).toEqual({
      correlationid: 'c-1',
      replyto: Topics.askReplies,
      partition: undefined,
    });
  });

  it('refuses a reply topic that is not one, naming it and the allowed ones', () => {
    for (const forged of [Topics.audit, Topics.registryChanges, 'tool_requests.crm']) {
      const call = () => topics.address(request(forged, '0'));
      expect(call).toThrow(ReplyAddressError);
      expect(call).toThrow(
        `ce_replyto "${forged}" is not a reply topic; replies go only to ${REPLY_TOPICS.join(', ')}`,
      );
    }
  });

  it('says a message without a reply address is no request', () => {
    expect(() => topics.address(request())).toThrow(PoisonMessageError);
    expect(() => topics.address(request())).toThrow(
      'request has no ce_correlationid or ce_replyto header: send requests with MessageBus.request()',
    );
  });

  it('refuses a reply partition that is no number', () => {
    for (const bad of ['', '-1', '1.5', '0x10', ' 3', '1e3', '12345678901']) {
      expect(() => topics.address(request(Topics.toolResponses, bad))).toThrow(
        `ce_replypartition "${bad}" is not a partition number of ${Topics.toolResponses}`,
      );
    }
  });

  it('refuses a partition beyond the topic, after asking the broker once more', async () => {
    lookups.length = 0;
    const fine = topics.address(request(Topics.modelReplies, '15'));
    await expect(topics.assertPartition(fine)).resolves.toBeUndefined();
    const beyond = topics.address(request(Topics.modelReplies, '16'));
    await expect(topics.assertPartition(beyond)).rejects.toThrow(
      `ce_replypartition 16 is out of range: ${Topics.modelReplies} has partitions 0 to 15`,
    );
    await expect(topics.assertPartition(beyond)).rejects.toBeInstanceOf(ReplyAddressError);
    // Cached: the first look-up served both checks, and a re-check waits 5 s.
    expect(lookups).toEqual([Topics.modelReplies]);
  });

  it('lets a responder add its own reply topics, leaving the original list alone', () => {
    const own = topics.with(['test.replies']);
    expect(own.address(request('test.replies')).replyto).toBe('test.replies');
    expect(() => topics.address(request('test.replies'))).toThrow(ReplyAddressError);
  });

  it('does not remember a failed partition look-up', async () => {
    const flaky = [new Error('broker unreachable'), 4];
    const t = new ReplyTopics(['r'], async () => {
      const next = flaky.shift();
      if (next instanceof Error) throw next;
      return next!;
    });
    const to = t.address(request('r', '3'));
    await expect(t.assertPartition(to)).rejects.toThrow('broker unreachable');
    await expect(t.assertPartition(to)).resolves.toBeUndefined();
  });
});

describe('reply topics of a bus', () => {
  it('answers on the reply topics the bus is configured with, and parks a request for any other', async () => {
    const broker = new MemoryBroker();
    for (const name of ['asks', 'own.replies', 'other.replies'])
      for (const t of [name, dlqTopic(name)]) broker.createTopic({ name: t, partitions: 1 });
    const logger = createLogger({ name: 'reply-topics-test', level: 'silent' });
    const responder = createMemoryBus({
      serviceName: 'responder',
      broker,
      logger,
      replyTopics: ['own.replies'],
    });
    const caller = createMemoryBus({ serviceName: 'caller', broker, logger });
    await responder.respond({ topic: 'asks', groupId: 'responder.asks' }, async (m) => ({
      type: 'dev.toolbus.test.answer.v1',
      value: m.value,
    }));
    const ask = (replyTopic: string, timeoutMs: number) =>
      caller.request(
        'asks',
        { type: 'dev.toolbus.test.ask.v1', value: { q: replyTopic } },
        { replyTopic, timeoutMs },
      );
    await expect(ask('own.replies', 2_000)).resolves.toMatchObject({
      value: { q: 'own.replies' },
    });
    await expect(ask('other.replies', 200)).rejects.toThrow('no reply to a request on asks');
    const [parked] = await waitFor(() =>
      broker.peek(dlqTopic('asks')).length ? broker.peek(dlqTopic('asks')) : undefined,
    );
    expect(parked!.headers[DLQ_HEADERS.reason]).toBe(
      `ce_replyto "other.replies" is not a reply topic; replies go only to ${[...REPLY_TOPICS, 'own.replies'].join(', ')}`,
    );
    expect(broker.written('other.replies')).toBe(0);
    await Promise.all([responder.close(1_000), caller.close(1_000)]);
  });
});
