import { trace } from '@opentelemetry/api';
import {
  CE_HEADERS,
  dlqTopic,
  messageKind,
  Messages,
  REPLY_TOPICS,
  toCloudEventHeaders,
} from '@toolbus/contracts';
import { startTelemetry } from '@toolbus/observability';
import { deferred, uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DLQ_HEADERS,
  forKind,
  NonRetryableError,
  ReplyRouteLostError,
  RequestFailedError,
  RequestTimeoutError,
  type IncomingMessage,
  type MessageBus,
  type TransportBus,
} from '../src/index.js';
import { kafkaHarness, memoryHarness, type BusHarness } from './harness.js';

/**
 * The one contract both MessageBus implementations keep. The in-memory bus runs the embedded
 * mode, Kafka every other; if a behaviour matters to a service, it is asserted here for both.
 */
const adapters: Array<[string, () => BusHarness]> = [
  ['memory', memoryHarness],
  ['kafka', kafkaHarness],
];

const Greeting = z.object({ text: z.string(), n: z.number().int() });
type Greeting = z.infer<typeof Greeting>;
const GREETING = 'dev.toolbus.test.greeting.v1';

/** Two versions of one message: v2 adds a required `lang`, and says how to lift a v1 to it. */
const GreetingV1 = messageKind('test.greeting', 1, Greeting);
const GreetingV2 = messageKind(
  'test.greeting',
  2,
  z.object({ text: z.string(), n: z.number().int(), lang: z.string().min(2) }),
  { upcast: { from: GreetingV1, lift: (v1) => ({ ...v1, lang: 'en' }) } },
);

function collect<T>(bus: MessageBus, topic: string, groupId = uniqueName('g')) {
  const seen: IncomingMessage<T>[] = [];
  const ready = bus.subscribe<T>({ topic, groupId }, async (m) => {
    seen.push(m);
  });
  return { seen, ready };
}

describe.each(adapters)('MessageBus contract: %s', (_name, makeHarness) => {
  let h: BusHarness;
  beforeAll(() => {
    startTelemetry({ serviceName: 'bus-contract' });
    h = makeHarness();
  });
  afterAll(() => h.close());

  it('publishes with key and headers and delivers them with the CloudEvents attributes', async () => {
    const topic = await h.topic();
    const bus = h.bus('publisher');
    const { seen, ready } = collect<Greeting>(bus, topic);
    await ready;
    await bus.publish<Greeting>(topic, {
      type: GREETING,
      key: 'k-1',
      value: { text: 'hi', n: 1 },
      headers: { 'x-tenant': 'acme' },
      subject: 'greet',
    });
    const [m] = await waitFor(() => (seen.length ? seen : undefined), { what: 'the message' });
    expect(m!.value).toEqual({ text: 'hi', n: 1 });
    expect(m!.key).toBe('k-1');
    expect(m!.headers['x-tenant']).toBe('acme');
    expect(m!.event).toMatchObject({
      specversion: '1.0',
      type: GREETING,
      source: '/toolbus/publisher',
      subject: 'greet',
    });
    expect(m!.event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(m!.attempt).toBe(1);
  });

  it('keeps one key in order while different keys run in parallel', async () => {
    const topic = await h.topic(3);
    const bus = h.bus();
    const order = new Map<string, number[]>();
    let total = 0;
    await bus.subscribe<Greeting>(
      { topic, groupId: uniqueName('g'), concurrency: 8, schema: Greeting },
      async (m) => {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        const list = order.get(m.key!) ?? [];
        list.push(m.value.n);
        order.set(m.key!, list);
        total++;
      },
    );
    const keys = ['a', 'b', 'c', 'd'];
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        bus.publish<Greeting>(topic, {
          type: GREETING,
          key: keys[i % 4],
          value: { text: 'x', n: i },
        }),
      ),
    );
    await waitFor(() => total === 120, { what: '120 messages', timeoutMs: 30_000 });
    for (const k of keys) {
      const seen = order.get(k)!;
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      expect(seen).toHaveLength(30);
    }
  });

  it('never runs more handlers at once than the concurrency limit', async () => {
    const topic = await h.topic(4);
    const bus = h.bus();
    let now = 0;
    let peak = 0;
    let done = 0;
    const sub = await bus.subscribe(
      { topic, groupId: uniqueName('g'), concurrency: 4 },
      async () => {
        now++;
        peak = Math.max(peak, now);
        await new Promise((r) => setTimeout(r, 5));
        now--;
        done++;
      },
    );
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        bus.publish(topic, { type: GREETING, value: { n: i } }),
      ),
    );
    await waitFor(() => done === 200, { what: '200 handled', timeoutMs: 30_000 });
    expect(peak).toBe(4);
    expect(sub.stats().maxInFlight).toBe(4);
  });

  it('retries a failing handler with backoff, then parks the message on the DLQ with its reason while later messages flow', async () => {
    const topic = await h.topic();
    const bus = h.bus();
    const attempts: number[] = [];
    const good: number[] = [];
    await bus.subscribe<Greeting>(
      {
        topic,
        groupId: uniqueName('g'),
        schema: Greeting,
        retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      },
      async (m) => {
        if (m.value.text === 'poison') {
          attempts.push(m.attempt);
          throw new Error('database said no');
        }
        good.push(m.value.n);
      },
    );
    const dead = collect<Greeting>(bus, dlqTopic(topic));
    await dead.ready;
    await bus.publish<Greeting>(topic, {
      type: GREETING,
      key: 'same',
      value: { text: 'poison', n: 0 },
      headers: { 'x-origin': 'test' },
    });
    for (let n = 1; n <= 5; n++)
      await bus.publish<Greeting>(topic, { type: GREETING, key: 'same', value: { text: 'ok', n } });
    await waitFor(() => good.length === 5 && dead.seen.length === 1, {
      what: 'the DLQ entry and 5 good messages',
      timeoutMs: 30_000,
    });
    expect(attempts).toEqual([1, 2, 3]);
    expect(good).toEqual([1, 2, 3, 4, 5]);
    const d = dead.seen[0]!;
    expect(d.value).toEqual({ text: 'poison', n: 0 });
    expect(d.headers[DLQ_HEADERS.reason]).toBe('database said no');
    expect(d.headers[DLQ_HEADERS.attempts]).toBe('3');
    expect(d.headers[DLQ_HEADERS.topic]).toBe(topic);
    expect(d.headers['x-origin']).toBe('test');
    expect(d.headers[CE_HEADERS.type]).toBe(GREETING);
  });

  it('parks a non-retryable failure at once', async () => {
    const topic = await h.topic();
    const bus = h.bus();
    let calls = 0;
    await bus.subscribe(
      { topic, groupId: uniqueName('g'), retry: { attempts: 5, initialDelayMs: 10 } },
      async () => {
        calls++;
        throw new NonRetryableError('credit limit may not be negative');
      },
    );
    const dead = collect(bus, dlqTopic(topic));
    await dead.ready;
    await bus.publish(topic, { type: GREETING, value: { n: 1 } });
    await waitFor(() => dead.seen.length === 1, { what: 'the DLQ entry' });
    expect(calls).toBe(1);
    expect(dead.seen[0]!.headers[DLQ_HEADERS.attempts]).toBe('1');
    expect(dead.seen[0]!.headers[DLQ_HEADERS.error]).toBe('NonRetryableError');
  });

  it('parks malformed messages (no CloudEvents headers, not JSON, wrong type, failing schema, empty) with a clear reason and keeps consuming', async () => {
    const topic = await h.topic();
    const bus = h.bus();
    const good: Greeting[] = [];
    const sub = await bus.subscribe<Greeting>(
      { topic, groupId: uniqueName('g'), schema: Greeting, types: [GREETING] },
      async (m) => {
        good.push(m.value);
      },
    );
    const ce = (type = GREETING) =>
      toCloudEventHeaders({
        specversion: '1.0',
        id: uniqueName('e'),
        source: '/test',
        type,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
      });
    await h.publishRaw(topic, {
      key: 'legacy',
      value: JSON.stringify({ text: 'x', n: 1 }),
      headers: { 'x-who': 'legacy-producer' },
    });
    await h.publishRaw(topic, { value: '{not json', headers: ce() });
    await h.publishRaw(topic, {
      value: JSON.stringify({ text: 'x', n: 1 }),
      headers: ce('dev.toolbus.other.thing.v1'),
    });
    await h.publishRaw(topic, { value: JSON.stringify({ text: 42 }), headers: ce() });
    await h.publishRaw(topic, { value: null, headers: ce() });
    await bus.publish<Greeting>(topic, { type: GREETING, value: { text: 'fine', n: 7 } });
    await waitFor(() => good.length === 1 && sub.stats().deadLettered === 5, {
      what: 'the good message and 5 parked ones',
      timeoutMs: 30_000,
    });
    expect(good).toEqual([{ text: 'fine', n: 7 }]);
    const dead = await h.readRaw(dlqTopic(topic), 5);
    const reasons = dead.map((d) => d.headers[DLQ_HEADERS.reason]);
    expect(reasons).toEqual([
      'missing CloudEvents header ce_specversion',
      expect.stringMatching(/^value is not JSON: /),
      `unexpected ce_type "dev.toolbus.other.thing.v1": this consumer accepts ${GREETING}`,
      expect.stringMatching(
        new RegExp(`^payload does not match ${GREETING.replace(/\./g, '\\.')}: /text: .*; /n: `),
      ),
      'message has no value: expected a JSON payload',
    ]);
    for (const d of dead) {
      expect(d.headers[DLQ_HEADERS.error]).toBe('PoisonMessageError');
      expect(d.headers[DLQ_HEADERS.attempts]).toBe('1');
    }
    // The original bytes and headers are kept so the message can be inspected and replayed.
    expect(dead[0]!.headers['x-who']).toBe('legacy-producer');
    expect(dead[0]!.key).toBe('legacy');
    expect(dead[1]!.value?.toString()).toBe('{not json');
  });

  it('accepts v1 and v2 of a message, each validated by its own schema, v1 delivered upcast to v2', async () => {
    const topic = await h.topic();
    const bus = h.bus();
    const seen: Array<{
      version?: number;
      type: string;
      value: z.infer<typeof GreetingV2.schema>;
    }> = [];
    const sub = await bus.subscribe(
      { topic, groupId: uniqueName('g'), ...forKind(GreetingV2, GreetingV1) },
      async (m) => {
        seen.push({ version: m.kind?.version, type: m.event.type, value: m.value });
      },
    );
    await bus.publish(topic, { type: GreetingV1.type, value: { text: 'hi', n: 1 } });
    await bus.publish(topic, { type: GreetingV2.type, value: { text: 'hallo', n: 2, lang: 'de' } });
    // Valid v1 shapes sent as v2, and a v1 breaking v1's own schema: each checked by its type's schema.
    await bus.publish(topic, { type: GreetingV2.type, value: { text: 'no lang', n: 3 } });
    await bus.publish(topic, { type: GreetingV1.type, value: { text: 'half', n: 1.5 } });
    await bus.publish(topic, { type: 'dev.toolbus.test.greeting.v3', value: { text: 'x', n: 4 } });
    await bus.publish(topic, { type: GreetingV1.type, value: { text: 'after', n: 5 } });
    await waitFor(() => seen.length === 3 && sub.stats().deadLettered === 3, {
      what: 'three handled and three parked',
      timeoutMs: 30_000,
    });
    expect(seen).toEqual([
      { version: 1, type: GreetingV1.type, value: { text: 'hi', n: 1, lang: 'en' } },
      { version: 2, type: GreetingV2.type, value: { text: 'hallo', n: 2, lang: 'de' } },
      { version: 1, type: GreetingV1.type, value: { text: 'after', n: 5, lang: 'en' } },
    ]);
    const dead = await h.readRaw(dlqTopic(topic), 3);
    expect(dead.map((d) => d.headers[DLQ_HEADERS.reason])).toEqual([
      expect.stringMatching(/^payload does not match dev\.toolbus\.test\.greeting\.v2: \/lang: /),
      expect.stringMatching(/^payload does not match dev\.toolbus\.test\.greeting\.v1: \/n: /),
      'unexpected ce_type "dev.toolbus.test.greeting.v3": this consumer accepts dev.toolbus.test.greeting.v1, dev.toolbus.test.greeting.v2',
    ]);
    for (const d of dead) expect(d.headers[DLQ_HEADERS.error]).toBe('PoisonMessageError');
  });

  it('answers requests of either accepted version, the handler seeing the newest shape', async () => {
    const requests = await h.topic();
    const replies = await h.topic(2);
    const bus = h.bus();
    await bus.respond(
      {
        topic: requests,
        groupId: uniqueName('g'),
        replyTopics: [replies],
        ...forKind(GreetingV2, GreetingV1),
      },
      async (m) => ({
        type: GreetingV2.type,
        value: { ...m.value, text: `re: ${m.value.text} (v${m.kind?.version})` },
      }),
    );
    const ask = (type: string, value: unknown) =>
      bus.request(
        requests,
        { type, value },
        { replyTopic: replies, timeoutMs: 20_000, replySchema: GreetingV2.schema },
      );
    const [one, two] = await Promise.all([
      ask(GreetingV1.type, { text: 'a', n: 1 }),
      ask(GreetingV2.type, { text: 'b', n: 2, lang: 'fr' }),
    ]);
    expect(one.value).toEqual({ text: 're: a (v1)', n: 1, lang: 'en' });
    expect(two.value).toEqual({ text: 're: b (v2)', n: 2, lang: 'fr' });
    const refused = await ask('dev.toolbus.test.greeting.v3', { text: 'c', n: 3 }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RequestFailedError);
    expect((refused as Error).message).toBe(
      `request on ${requests} failed: unexpected ce_type "dev.toolbus.test.greeting.v3": this consumer accepts dev.toolbus.test.greeting.v1, dev.toolbus.test.greeting.v2`,
    );
  });

  it('answers a request with a reply that reaches only the waiting instance', async () => {
    const requests = await h.topic(2);
    const replies = await h.topic(4);
    const responderGroup = uniqueName('responders');
    const [r1, r2] = [h.bus('responder'), h.bus('responder')];
    const served = { r1: 0, r2: 0 };
    for (const [bus, name] of [
      [r1, 'r1'],
      [r2, 'r2'],
    ] as const) {
      await bus.respond<Greeting, Greeting>(
        { topic: requests, groupId: responderGroup, schema: Greeting, replyTopics: [replies] },
        async (m) => {
          served[name]++;
          return { type: GREETING, value: { text: `re: ${m.value.text}`, n: m.value.n * 2 } };
        },
      );
    }
    const service = uniqueName('caller');
    const [c1, c2] = [h.bus(service), h.bus(service)];
    // Both callers join the reply group before the burst, as services do at start-up.
    await c1.prepareReplies(replies);
    await c2.prepareReplies(replies);
    const calls = Array.from({ length: 200 }, (_, i) => {
      const caller = i % 2 ? c1 : c2;
      return caller
        .request<Greeting, Greeting>(
          requests,
          { type: GREETING, key: `k${i}`, value: { text: `q${i}`, n: i } },
          { replyTopic: replies, timeoutMs: 20_000, replySchema: Greeting },
        )
        .then((reply) => ({ i, reply }));
    });
    const results = await Promise.all(calls);
    for (const { i, reply } of results) {
      expect(reply.value).toEqual({ text: `re: q${i}`, n: i * 2 });
      expect(reply.event.correlationid).toBeDefined();
    }
    expect(served.r1 + served.r2).toBe(200);
  });

  it('fails a request with no responder with a timeout error within its deadline plus 10%', async () => {
    const requests = await h.topic();
    const replies = await h.topic(2);
    const bus = h.bus();
    await bus.prepareReplies(replies);
    const started = Date.now();
    const error = await bus
      .request(requests, { type: GREETING, value: {} }, { replyTopic: replies, timeoutMs: 800 })
      .catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toBe(`no reply to a request on ${requests} within 800 ms`);
    expect(elapsed).toBeGreaterThanOrEqual(790);
    expect(elapsed).toBeLessThanOrEqual(880);
  }, 60_000);

  it('answers a request whose handler keeps failing with a clear error, not a timeout', async () => {
    const requests = await h.topic();
    const replies = await h.topic(2);
    const bus = h.bus();
    await bus.respond(
      {
        topic: requests,
        groupId: uniqueName('g'),
        replyTopics: [replies],
        retry: { attempts: 2, initialDelayMs: 10 },
      },
      async () => {
        throw new Error('upstream CRM is down');
      },
    );
    const error = await bus
      .request(requests, { type: GREETING, value: {} }, { replyTopic: replies, timeoutMs: 20_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect((error as Error).message).toBe(`request on ${requests} failed: upstream CRM is down`);
  });

  it('answers only on reply topics: a request naming another topic, or a partition its topic lacks, is parked unanswered with the reason, and the next request is answered', async () => {
    const requests = await h.topic();
    const replies = await h.topic(2);
    // Stands in for toolbus.audit: a topic the responder's credentials may write to.
    const victim = await h.topic();
    const responder = h.bus('responder');
    const handled: string[] = [];
    const sub = await responder.respond<Greeting, Greeting>(
      { topic: requests, groupId: uniqueName('g'), schema: Greeting, replyTopics: [replies] },
      async (m) => {
        handled.push(m.value.text);
        return { type: GREETING, value: { text: `re: ${m.value.text}`, n: m.value.n } };
      },
    );
    const forge = (text: string, replyto: string, replypartition?: number) =>
      h.publishRaw(requests, {
        key: text,
        value: JSON.stringify({ text, n: 0 }),
        headers: toCloudEventHeaders({
          specversion: '1.0',
          id: uniqueName('e'),
          source: '/rogue',
          type: GREETING,
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          correlationid: uniqueName('c'),
          replyto,
          ...(replypartition === undefined ? {} : { replypartition }),
        }),
      });
    await forge('to the victim', victim, 0);
    await forge('to the victim, no partition', victim);
    await forge('beyond the partitions', replies, 2);
    const reply = await h
      .bus()
      .request<Greeting, Greeting>(
        requests,
        { type: GREETING, value: { text: 'legit', n: 1 } },
        { replyTopic: replies, timeoutMs: 20_000, replySchema: Greeting },
      );
    expect(reply.value).toEqual({ text: 're: legit', n: 1 });
    await waitFor(() => sub.stats().deadLettered === 3, { what: 'three parked requests' });
    expect(handled).toEqual(['legit']);
    const dead = await h.readRaw(dlqTopic(requests), 3);
    const reasonOf = (key: string) => dead.find((d) => d.key === key)?.headers[DLQ_HEADERS.reason];
    const allowed = [...REPLY_TOPICS, replies].join(', ');
    expect(reasonOf('to the victim')).toBe(
      `ce_replyto "${victim}" is not a reply topic; replies go only to ${allowed}`,
    );
    expect(reasonOf('to the victim, no partition')).toBe(reasonOf('to the victim'));
    expect(reasonOf('beyond the partitions')).toBe(
      `ce_replypartition 2 is out of range: ${replies} has partitions 0 to 1`,
    );
    for (const d of dead) {
      expect(d.headers[DLQ_HEADERS.error]).toBe('ReplyAddressError');
      expect(d.headers[DLQ_HEADERS.attempts]).toBe('1');
    }
    // Nothing reached the victim, and the reply topic got the one legitimate reply, no failure notice.
    expect(await h.written(victim)).toBe(0);
    expect(await h.written(replies)).toBe(1);
  });

  it('skips a request whose deadline passed before a responder picked it up: the handler never runs and nothing is sent, its caller having had its timeout', async () => {
    const requests = await h.topic();
    const replies = await h.topic(2);
    const caller = h.bus();
    await caller.prepareReplies(replies);
    const late = await caller
      .request(
        requests,
        { type: GREETING, value: { text: 'late', n: 1 } },
        { replyTopic: replies, timeoutMs: 300 },
      )
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(RequestTimeoutError);
    const handled: string[] = [];
    const sub = await h
      .bus('responder')
      .respond<Greeting, Greeting>(
        { topic: requests, groupId: uniqueName('g'), schema: Greeting, replyTopics: [replies] },
        async (m) => {
          handled.push(m.value.text);
          return { type: GREETING, value: { text: `re: ${m.value.text}`, n: m.value.n } };
        },
      );
    await waitFor(() => sub.stats().expired === 1, {
      what: 'the expired request to be skipped',
      timeoutMs: 30_000,
    });
    const fresh = await caller.request<Greeting, Greeting>(
      requests,
      { type: GREETING, value: { text: 'fresh', n: 2 } },
      { replyTopic: replies, timeoutMs: 20_000, replySchema: Greeting },
    );
    expect(fresh.value).toEqual({ text: 're: fresh', n: 2 });
    expect(handled).toEqual(['fresh']);
    // Counted once the reply is sent, which may be just after the caller has it.
    await waitFor(() => sub.stats().handled === 1, { what: 'the fresh request counted' });
    expect(sub.stats()).toMatchObject({ expired: 1, handled: 1, deadLettered: 0, retried: 0 });
    expect(await h.written(replies)).toBe(1);
    expect(await h.written(dlqTopic(requests))).toBe(0);
  });

  it('delivers the replies in flight while a second instance joins the reply group: every waiter gets its own, and the home partition stays', async () => {
    const requests = await h.topic(2);
    const replies = await h.topic(8);
    const gate = deferred();
    let entered = 0;
    await h.bus('responder').respond<Greeting, Greeting>(
      {
        topic: requests,
        groupId: uniqueName('g'),
        schema: Greeting,
        replyTopics: [replies],
        concurrency: 32,
      },
      async (m) => {
        entered++;
        await gate.promise;
        return { type: GREETING, value: { text: `re: ${m.value.text}`, n: m.value.n } };
      },
    );
    const service = uniqueName('caller');
    const first = h.bus(service) as TransportBus;
    await first.prepareReplies(replies);
    const before = (await first.replyRouteStats(replies))!.owned;
    expect(before).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const ask = (bus: MessageBus, n: number) =>
      bus
        .request<Greeting, Greeting>(
          requests,
          { type: GREETING, key: `k${n}`, value: { text: `q${n}`, n } },
          { replyTopic: replies, timeoutMs: 60_000, replySchema: Greeting },
        )
        .then(
          (r) => ({ n, value: r.value }),
          (error: unknown) => ({ n, error }),
        );
    const inFlight = Array.from({ length: 20 }, (_, n) => ask(first, n));
    await waitFor(() => entered === 20, {
      what: 'all 20 requests to reach the responder',
      timeoutMs: 30_000,
    });
    const second = h.bus(service) as TransportBus;
    const joined = second.prepareReplies(replies);
    // The replies are sent while the reply group rebalances.
    gate.resolve();
    await joined;
    const results = await Promise.all(inFlight);
    const failed = results.filter((r) => 'error' in r);
    // Never a silent loss: a reply that could not arrive would fail fast as ReplyRouteLostError;
    // the sticky assignment keeps the home partition, so not even that happens.
    expect(failed.filter((r) => !(r.error instanceof ReplyRouteLostError))).toEqual([]);
    expect(failed).toEqual([]);
    for (const r of results) expect(r).toEqual({ n: r.n, value: { text: `re: q${r.n}`, n: r.n } });
    const [a, b] = await waitFor(
      async () => {
        const stats = await Promise.all([first, second].map((c) => c.replyRouteStats(replies)));
        const owned = stats.flatMap((s) => s?.owned ?? []);
        return owned.length === 8 &&
          new Set(owned).size === 8 &&
          stats.every((s) => s?.owned.length)
          ? stats
          : undefined;
      },
      { what: 'the two instances to split the reply partitions', timeoutMs: 30_000 },
    );
    expect(a!.owned[0]).toBe(before[0]);
    expect(b!.owned).not.toContain(before[0]);
    const more = await Promise.all(Array.from({ length: 10 }, (_, i) => ask(second, 100 + i)));
    for (const r of more) expect(r).toEqual({ n: r.n, value: { text: `re: q${r.n}`, n: r.n } });
  }, 120_000);

  it('carries the W3C trace context from publisher to handler', async () => {
    const topic = await h.topic();
    const bus = h.bus();
    const seen = deferred<{ traceId: string; traceparent?: string }>();
    await bus.subscribe({ topic, groupId: uniqueName('g') }, async (m) => {
      seen.resolve({
        traceId: trace.getActiveSpan()!.spanContext().traceId,
        traceparent: m.headers['traceparent'],
      });
    });
    const traceId = await trace.getTracer('test').startActiveSpan('caller', async (span) => {
      await bus.publish(topic, { type: GREETING, value: {} });
      span.end();
      return span.spanContext().traceId;
    });
    const got = await seen.promise;
    expect(got.traceId).toBe(traceId);
    expect(got.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('shuts down gracefully: in-flight work finishes, unstarted work stays for the next consumer', async () => {
    const topic = await h.topic();
    const groupId = uniqueName('g');
    const first = h.bus();
    const finished: number[] = [];
    const sub = await first.subscribe<Greeting>(
      { topic, groupId, concurrency: 2, schema: Greeting },
      async (m) => {
        await new Promise((r) => setTimeout(r, 300));
        finished.push(m.value.n);
      },
    );
    for (let n = 0; n < 6; n++)
      await first.publish<Greeting>(topic, { type: GREETING, value: { text: 's', n } });
    await waitFor(() => sub.stats().inFlight === 2, { what: 'two in flight' });
    await sub.stop(5_000);
    expect(finished.length).toBeGreaterThanOrEqual(2);
    expect(sub.stats().inFlight).toBe(0);
    const handledBefore = [...finished];
    const second = h.bus();
    const later: number[] = [];
    await second.subscribe<Greeting>({ topic, groupId, schema: Greeting }, async (m) => {
      later.push(m.value.n);
    });
    await waitFor(() => new Set([...handledBefore, ...later]).size === 6, {
      what: 'all six handled across both',
      timeoutMs: 30_000,
    });
    expect(new Set([...handledBefore, ...later])).toEqual(new Set([0, 1, 2, 3, 4, 5]));
  });

  it('creates topics idempotently', async () => {
    const bus = h.bus();
    const name = uniqueName('created');
    const specs = [
      { name, partitions: 3 },
      { name: dlqTopic(name), partitions: 1 },
    ];
    await bus.ensureTopics(specs);
    await bus.ensureTopics(specs);
    const { seen, ready } = collect(bus, name);
    await ready;
    await bus.publish(name, { type: GREETING, value: { ok: true } });
    await waitFor(() => seen.length === 1, { what: 'a message on the created topic' });
  });

  it('validates with contract schemas from libs/contracts', async () => {
    const topic = await h.topic();
    const bus = h.bus();
    const seen = deferred<string>();
    await bus.subscribe(
      {
        topic,
        groupId: uniqueName('g'),
        schema: Messages.auditRecorded.schema,
        types: [Messages.auditRecorded.type],
      },
      async (m) => {
        seen.resolve(m.value.action);
      },
    );
    await bus.publish(topic, {
      type: Messages.auditRecorded.type,
      value: {
        id: '6f1c1d44-55d2-4b8e-9d0c-9f3f6d2a1b11',
        at: new Date().toISOString(),
        actor: { subject: 'alice', kind: 'user', tenant: 'acme', scopes: [] },
        action: 'tool.call',
        resource: { kind: 'tool', id: 'get_credit_limit' },
        outcome: 'succeeded',
        tenant: 'acme',
      },
    });
    await expect(seen.promise).resolves.toBe('tool.call');
  });
});
