import type { Headers, TopicSpec } from '@toolbus/contracts';

/**
 * The small surface a broker adapter provides. Everything else (envelope, validation,
 * ordering, concurrency, retries, DLQ, request-reply, tracing) lives once in `TransportBus`,
 * so the Kafka and in-memory buses behave alike by construction.
 */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Headers;
}

export interface ProduceRecord {
  topic: string;
  /** Explicit partition (replies); otherwise chosen from the key. */
  partition?: number;
  key: string | null;
  value: Buffer;
  headers: Headers;
}

export interface BatchHooks {
  /** Marks an offset done; the adapter commits up to the highest resolved offset. */
  resolveOffset(offset: string): void;
  /** Keeps the group membership alive during long work; a no-op where not needed. */
  heartbeat(): Promise<void>;
  /** True once this batch's partition was revoked (rebalance) or the consumer is stopping. */
  isStale(): boolean;
}

/** Handles the fetched records of one partition; the next batch of that partition waits for it. */
export type BatchHandler = (records: RawRecord[], hooks: BatchHooks) => Promise<void>;

export interface ConsumeOptions {
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  /** Called with this member's partitions of the topic after every (re)assignment. */
  onAssign?: (partitions: number[]) => void;
}

export interface TransportConsumer {
  /** Stop fetching new records (shutdown step one). */
  pause(): void;
  /** Commit what was resolved, leave the group and disconnect. */
  stop(): Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  produce(records: ProduceRecord[]): Promise<void>;
  consume(options: ConsumeOptions, handler: BatchHandler): Promise<TransportConsumer>;
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /**
   * Prepares a reply group before it first joins, so replies sent right after the join are not
   * skipped by a consumer that starts at the log end (Kafka: commit the current end offsets).
   */
  prepareReplyGroup(groupId: string, topic: string): Promise<void>;
  /** How many partitions a topic has; rejects when it does not exist. */
  partitionCount(topic: string): Promise<number>;
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}
