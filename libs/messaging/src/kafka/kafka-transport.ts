import type { TopicSpec } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import kafkajs, {
  type Admin,
  type Consumer,
  type KafkaConfig,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import { ConsumerLagMonitor } from './consumer-lag.js';
import { explainConnectError, type KafkaSecurity } from './kafka-security.js';
import { stickyAssigner, type OwnedPartitions } from './sticky-assigner.js';
import type {
  BatchHandler,
  ConsumeOptions,
  ProduceRecord,
  RawRecord,
  Transport,
  TransportConsumer,
} from '../core/transport.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

export interface KafkaTransportOptions extends KafkaSecurity {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** A member that sends no heartbeat for this long is presumed dead and its partitions move. Default 10 s. */
  sessionTimeoutMs?: number;
  /**
   * How long the broker may hold an empty fetch. A fetch returns as soon as one record arrives,
   * so this bounds idle polling, not latency; kafkajs's 5 s default delays rebalances. Default 100 ms.
   */
  maxWaitTimeMs?: number;
  /** Bytes fetched per partition: with the in-flight limit, the bound on buffered messages. Default 256 KiB. */
  maxBytesPerPartition?: number;
  /** Partitions whose batches are handled at the same time by one member. Default 4. */
  partitionsConsumedConcurrently?: number;
  /**
   * Prefix of every topic and consumer group on the wire (e.g. `staging.`), so several
   * platforms share one Kafka cluster without sharing a message. Everything above the
   * transport names topics without it. Default none.
   */
  namespace?: string;
  /** How often `toolbus_bus_consumer_lag` asks the broker for watermarks and commits; 0 never. Default 10 s. */
  consumerLagIntervalMs?: number;
}

const MAX_REQUEST_BYTES = 512 * 1024;

interface Queued {
  records: ProduceRecord[];
  resolve(): void;
  reject(error: unknown): void;
}

/** kafkajs behind the Transport interface. Only this file and kafka-security.ts import kafkajs. */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: InstanceType<typeof Kafka>;
  private producer?: Promise<Producer>;
  private admin?: Promise<Admin>;
  private queue: Queued[] = [];
  private flushScheduled = false;
  private readonly inFlightSends = new Set<Promise<void>>();
  private readonly consumers = new Set<Consumer>();
  private readonly namespace: string;
  private readonly lag: ConsumerLagMonitor;

  constructor(private readonly options: KafkaTransportOptions) {
    this.namespace = options.namespace ?? '';
    const log = options.logger.child({ component: 'kafkajs' });
    const config: KafkaConfig = {
      clientId: options.clientId,
      brokers: options.brokers,
      ssl: options.ssl,
      sasl: options.sasl,
      socketFactory: options.socketFactory,
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        if (entry.level <= logLevel.ERROR) log.error(rest, message);
        else log.warn(rest, message);
      },
    };
    this.kafka = new Kafka(config);
    // The monitor labels the gauge with the plain names users configure; the broker knows
    // them only under the namespace, so the admin calls ask for the names on the wire.
    this.lag = new ConsumerLagMonitor(
      {
        watermarks: async (topic) => (await this.getAdmin()).fetchTopicOffsets(this.wire(topic)),
        committed: async (groupId, topic) => {
          const [offsets] = await (
            await this.getAdmin()
          ).fetchOffsets({ groupId: this.wire(groupId), topics: [this.wire(topic)] });
          return offsets?.partitions ?? [];
        },
      },
      { intervalMs: options.consumerLagIntervalMs ?? 10_000, logger: options.logger },
    );
  }

  /** A topic or group name as the brokers know it. */
  private wire(name: string): string {
    return this.namespace + name;
  }

  // ---- producing: concurrent sends in one tick go out as one batch request ---------------

  produce(records: ProduceRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const items = this.queue;
    this.queue = [];
    // One request per ~512 KiB: a broker refuses record batches over message.max.bytes (1 MiB).
    let chunk: Queued[] = [];
    let bytes = 0;
    const sends: Promise<void>[] = [];
    for (const item of items) {
      chunk.push(item);
      bytes += item.records.reduce((n, r) => n + r.value.length + 256, 0);
      if (bytes >= MAX_REQUEST_BYTES) {
        sends.push(this.send(chunk));
        chunk = [];
        bytes = 0;
      }
    }
    if (chunk.length > 0) sends.push(this.send(chunk));
    await Promise.all(sends);
  }

  private async send(items: Queued[]): Promise<void> {
    const byTopic = new Map<string, ProduceRecord[]>();
    for (const item of items) {
      for (const r of item.records) {
        let list = byTopic.get(r.topic);
        if (!list) byTopic.set(r.topic, (list = []));
        list.push(r);
      }
    }
    const send = (async () => {
      try {
        const producer = await this.getProducer();
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, list]) => ({
            topic: this.wire(topic),
            messages: list.map((r) => ({
              key: r.key,
              value: r.value,
              headers: r.headers,
              partition: r.partition,
            })),
          })),
        });
        for (const item of items) item.resolve();
      } catch (error) {
        for (const item of items) item.reject(error);
      }
    })();
    this.inFlightSends.add(send);
    await send;
    this.inFlightSends.delete(send);
  }

  private async connect(client: Producer | Admin | Consumer): Promise<void> {
    try {
      await client.connect();
    } catch (error) {
      throw explainConnectError(error, this.options);
    }
  }

  private getProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      await this.connect(producer);
      return producer;
    })();
    this.producer.catch(() => (this.producer = undefined));
    return this.producer;
  }

  private getAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await this.connect(admin);
      return admin;
    })();
    this.admin.catch(() => (this.admin = undefined));
    return this.admin;
  }

  // ---- consuming ------------------------------------------------------------------------

  async consume(options: ConsumeOptions, handler: BatchHandler): Promise<TransportConsumer> {
    const topic = this.wire(options.topic);
    const owned: OwnedPartitions = { topic, partitions: [] };
    const consumer = this.kafka.consumer({
      groupId: this.wire(options.groupId),
      partitionAssigners: [stickyAssigner(owned)],
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: Math.min(1_000, Math.floor((this.options.sessionTimeoutMs ?? 10_000) / 5)),
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 100,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 256 * 1024,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    let stopped = false;
    const lag = this.lag.track(options.groupId, options.topic, options.fromBeginning);
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      owned.partitions = [...(event.payload.memberAssignment[topic] ?? [])];
      lag.assigned(owned.partitions);
      options.onAssign?.(owned.partitions);
    });
    await this.connect(consumer);
    this.consumers.add(consumer);
    await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 500,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        isRunning,
        isStale,
        commitOffsetsIfNecessary,
      }) => {
        const records: RawRecord[] = batch.messages.map((m) => ({
          topic: options.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value,
          headers: headersToStrings(m.headers),
        }));
        const first = batch.messages[0];
        if (first) lag.fetched(batch.partition, first.offset, batch.highWatermark);
        await handler(records, {
          resolveOffset: (offset) => {
            resolveOffset(offset);
            lag.resolved(batch.partition, offset);
          },
          heartbeat: async () => {
            try {
              await heartbeat();
            } catch {
              // A rebalance is under way: isStale() turns true and the batch winds down.
            }
          },
          isStale: () => stopped || !isRunning() || isStale(),
        });
        await commitOffsetsIfNecessary();
      },
    });
    return {
      pause: () => {
        stopped = true;
        try {
          consumer.pause([{ topic }]);
        } catch {
          // Never got as far as running (e.g. the broker was unreachable): nothing to pause.
        }
      },
      stop: async () => {
        stopped = true;
        this.consumers.delete(consumer);
        lag.stop();
        await consumer.disconnect();
      },
    };
  }

  // ---- admin ----------------------------------------------------------------------------

  async ensureTopics(logical: TopicSpec[]): Promise<void> {
    const specs = logical.map((s) => ({ ...s, name: this.wire(s.name) }));
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: -1,
            configEntries: [
              ...(s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
              ...(s.retentionMs !== undefined && !s.compacted
                ? [{ name: 'retention.ms', value: String(s.retentionMs) }]
                : []),
            ],
          })),
        });
      } catch (error) {
        // Another instance created them at the same moment: fine, as long as they now exist.
        const now = new Set(await admin.listTopics());
        if (missing.some((s) => !now.has(s.name))) throw error;
      }
    }
    // Grow topics created with fewer partitions than the spec (never shrink: Kafka cannot).
    const present = specs.filter((s) => existing.has(s.name));
    if (present.length > 0) {
      const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
      const grow = topics
        .map((t) => ({ t, spec: present.find((s) => s.name === t.name)! }))
        .filter(({ t, spec }) => t.partitions.length < spec.partitions)
        .map(({ spec }) => ({ topic: spec.name, count: spec.partitions }));
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    }
  }

  async prepareReplyGroup(logicalGroup: string, logicalTopic: string): Promise<void> {
    const groupId = this.wire(logicalGroup);
    const topic = this.wire(logicalTopic);
    try {
      const admin = await this.getAdmin();
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      if (group && group.members.length > 0) return;
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const unset = (offsets?.partitions ?? [])
        .filter((p) => p.offset === '-1')
        .map((p) => p.partition);
      if (unset.length === 0) return;
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: ends
          .filter((e) => unset.includes(e.partition))
          .map((e) => ({ partition: e.partition, offset: e.high })),
      });
    } catch (error) {
      // Best effort: without it the group reads the retained replies once and drops them as orphans.
      this.options.logger.debug({ err: error, groupId }, 'could not preset reply group offsets');
    }
  }

  async partitionCount(logicalTopic: string): Promise<number> {
    const topic = this.wire(logicalTopic);
    const admin = await this.getAdmin();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
    return count;
  }

  async isHealthy(): Promise<boolean> {
    try {
      const admin = await this.getAdmin();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.lag.close();
    await this.flush();
    await Promise.allSettled([...this.inFlightSends]);
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    const producer = await this.producer?.catch(() => undefined);
    const admin = await this.admin?.catch(() => undefined);
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  }
}

function headersToStrings(
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one !== undefined) out[k] = one.toString();
  }
  return out;
}
