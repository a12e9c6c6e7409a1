import { dlqTopic, type Headers } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import kafkajs from 'kafkajs';
import { createKafkaBus, createMemoryBus, MemoryBroker, type MessageBus } from '../src/index.js';

export interface RawRecordView {
  key: string | null;
  value: Buffer | null;
  headers: Headers;
}

/** What the contract suite needs from an adapter: fresh instances that share one broker. */
export interface BusHarness {
  readonly name: 'memory' | 'kafka';
  /** A new bus instance, as a new replica of `serviceName` would have. */
  bus(serviceName?: string): MessageBus;
  /** Creates a fresh topic (and its DLQ) with this many partitions. */
  topic(partitions?: number): Promise<string>;
  /** Writes bytes straight to a topic, bypassing the bus: for malformed-message tests. */
  publishRaw(
    topic: string,
    record: { key?: string; value: string | Buffer | null; headers: Headers },
  ): Promise<void>;
  /** Reads the first `count` records of a topic as bytes and string headers, bypassing the bus. */
  readRaw(topic: string, count: number): Promise<RawRecordView[]>;
  /** How many records were ever written to a topic (its end offsets, summed). */
  written(topic: string): Promise<number>;
  close(): Promise<void>;
}

const quiet = () =>
  createLogger({ name: 'bus-test', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

export function memoryHarness(): BusHarness {
  const broker = new MemoryBroker();
  const buses: MessageBus[] = [];
  return {
    name: 'memory',
    bus(serviceName = uniqueName('svc')) {
      const bus = createMemoryBus({
        serviceName,
        broker,
        logger: quiet(),
        shutdownDeadlineMs: 5_000,
      });
      buses.push(bus);
      return bus;
    },
    async topic(partitions = 1) {
      const name = uniqueName('t');
      broker.createTopic({ name, partitions });
      broker.createTopic({ name: dlqTopic(name), partitions: 1 });
      return name;
    },
    async publishRaw(topic, record) {
      broker.append({
        topic,
        key: record.key ?? null,
        value: record.value === null ? Buffer.alloc(0) : Buffer.from(record.value),
        headers: record.headers,
      });
    },
    async readRaw(topic, count) {
      const records = await waitFor(
        () => (broker.peek(topic).length >= count ? broker.peek(topic) : undefined),
        { what: `${count} records on ${topic}` },
      );
      return records.slice(0, count);
    },
    async written(topic) {
      return broker.written(topic);
    },
    async close() {
      await Promise.all(buses.map((b) => b.close(1_000)));
    },
  };
}

export function kafkaHarness(): BusHarness {
  const { kafkaBrokers } = infraFromEnv();
  const kafka = new kafkajs.Kafka({
    clientId: 'bus-test-raw',
    brokers: kafkaBrokers,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  const connected = Promise.all([admin.connect(), producer.connect()]);
  const buses: MessageBus[] = [];
  const topics: string[] = [];
  return {
    name: 'kafka',
    bus(serviceName = uniqueName('svc')) {
      const bus = createKafkaBus({
        serviceName,
        brokers: kafkaBrokers,
        logger: quiet(),
        shutdownDeadlineMs: 5_000,
        sessionTimeoutMs: 6_000,
      });
      buses.push(bus);
      return bus;
    },
    async topic(partitions = 1) {
      await connected;
      const name = uniqueName('t');
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: name, numPartitions: partitions },
          { topic: dlqTopic(name), numPartitions: 1 },
        ],
      });
      topics.push(name, dlqTopic(name));
      return name;
    },
    async publishRaw(topic, record) {
      await connected;
      await producer.send({
        topic,
        messages: [{ key: record.key ?? null, value: record.value, headers: record.headers }],
      });
    },
    async readRaw(topic, count) {
      const consumer = kafka.consumer({ groupId: uniqueName('raw'), maxWaitTimeInMs: 100 });
      const seen: RawRecordView[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Headers = {};
          for (const [k, v] of Object.entries(message.headers ?? {}))
            if (v !== undefined) headers[k] = String(v);
          seen.push({ key: message.key?.toString() ?? null, value: message.value, headers });
        },
      });
      try {
        await waitFor(() => seen.length >= count, {
          what: `${count} records on ${topic}`,
          timeoutMs: 20_000,
        });
      } finally {
        await consumer.disconnect();
      }
      return seen.slice(0, count);
    },
    async written(topic) {
      await connected;
      const ends = await admin.fetchTopicOffsets(topic);
      return ends.reduce((n, p) => n + Number(p.high), 0);
    },
    async close() {
      await Promise.all(buses.map((b) => b.close(1_000)));
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    },
  };
}
