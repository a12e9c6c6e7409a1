import type { TopicSpec } from '@toolbus/contracts';
import { stickyAssign } from '../core/sticky-assignment.js';
import type {
  BatchHandler,
  ConsumeOptions,
  ProduceRecord,
  RawRecord,
  Transport,
  TransportConsumer,
} from '../core/transport.js';

interface StoredRecord {
  offset: number;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

class MemPartition {
  records: StoredRecord[] = [];
  /** Offset of records[0]; records below it were consumed by every group and dropped. */
  base = 0;
  private waiters = new Set<() => void>();

  get end(): number {
    return this.base + this.records.length;
  }

  wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  waitForData(): { promise: Promise<void>; cancel: () => void } {
    let done!: () => void;
    const promise = new Promise<void>((r) => (done = r));
    this.waiters.add(done);
    return { promise, cancel: () => (this.waiters.delete(done), done()) };
  }
}

interface MemTopic {
  spec: TopicSpec;
  partitions: MemPartition[];
  roundRobin: number;
}

interface MemMember {
  id: number;
  options: ConsumeOptions;
  handler: BatchHandler;
  assigned: number[];
  paused: boolean;
  stopped: boolean;
  wakers: Set<() => void>;
}

interface MemGroup {
  topic: string;
  generation: number;
  members: MemMember[];
  /** Next offset to read, per partition. */
  committed: Map<number, number>;
  /** The loop currently reading each partition; a new owner waits for the old one to finish. */
  loops: Map<number, Promise<void>>;
}

/** Most unconsumed records a partition holds before publishing is refused (never dropped). */
const MAX_BACKLOG = 1_000_000;
const MAX_BATCH = 256;

/**
 * An in-process broker with Kafka's semantics where the platform relies on them: partitions
 * chosen by key, consumer groups that split partitions among members and rebalance on join and
 * leave, committed offsets, redelivery of what was not committed. Several buses (one per
 * embedded service, or per simulated instance in tests) share one broker.
 */
export class MemoryBroker {
  private readonly topics = new Map<string, MemTopic>();
  private readonly groups = new Map<string, MemGroup>();
  private nextMember = 1;

  createTopic(spec: TopicSpec): void {
    if (this.topics.has(spec.name)) return;
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new Error(
        `topic ${spec.name}: partitions must be a positive integer, got ${spec.partitions}`,
      );
    }
    this.topics.set(spec.name, {
      spec,
      partitions: Array.from({ length: spec.partitions }, () => new MemPartition()),
      roundRobin: 0,
    });
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  /** How many partitions a topic has; throws when it does not exist. */
  partitionCount(name: string): number {
    return this.topic(name).partitions.length;
  }

  /** Records ever appended to a topic, consumed or not (for tests: proves nothing was written). */
  written(name: string): number {
    return this.topic(name).partitions.reduce((n, p) => n + p.end, 0);
  }

  /** Records currently held for a topic (for tests: proves trimming keeps memory bounded). */
  retained(topic: string): number {
    return this.topic(topic).partitions.reduce((n, p) => n + p.records.length, 0);
  }

  /** The records a topic still holds, oldest first (a DLQ nobody consumes keeps them all). */
  peek(topic: string): Array<{
    partition: number;
    offset: string;
    key: string | null;
    value: Buffer;
    headers: Record<string, string>;
  }> {
    return this.topic(topic).partitions.flatMap((p, partition) =>
      p.records.map((r) => ({
        partition,
        offset: String(r.offset),
        key: r.key,
        value: r.value,
        headers: { ...r.headers },
      })),
    );
  }

  append(record: ProduceRecord): void {
    const topic = this.topic(record.topic);
    const index =
      record.partition ??
      (record.key === null
        ? topic.roundRobin++ % topic.partitions.length
        : hashKey(record.key) % topic.partitions.length);
    const partition = topic.partitions[index];
    if (!partition) throw new Error(`topic ${record.topic} has no partition ${index}`);
    if (partition.records.length >= MAX_BACKLOG) {
      throw new Error(
        `in-memory topic ${record.topic}[${index}] holds ${MAX_BACKLOG} unconsumed messages; refusing more`,
      );
    }
    partition.records.push({
      offset: partition.end,
      key: record.key,
      value: record.value,
      headers: { ...record.headers },
    });
    partition.wake();
  }

  join(options: ConsumeOptions, handler: BatchHandler): MemMember {
    this.topic(options.topic);
    const key = `${options.groupId}\u0000${options.topic}`;
    let group = this.groups.get(key);
    if (!group) {
      group = {
        topic: options.topic,
        generation: 0,
        members: [],
        committed: new Map(),
        loops: new Map(),
      };
      this.groups.set(key, group);
    }
    const member: MemMember = {
      id: this.nextMember++,
      options,
      handler,
      assigned: [],
      paused: false,
      stopped: false,
      wakers: new Set(),
    };
    group.members.push(member);
    this.rebalance(group);
    return member;
  }

  leave(member: MemMember): Promise<void> {
    const group = this.groups.get(`${member.options.groupId}\u0000${member.options.topic}`);
    member.stopped = true;
    for (const w of member.wakers) w();
    if (!group) return Promise.resolve();
    const mine = member.assigned
      .map((p) => group.loops.get(p))
      .filter((l): l is Promise<void> => !!l);
    group.members = group.members.filter((m) => m !== member);
    this.rebalance(group);
    return Promise.all(mine).then(() => undefined);
  }

  private topic(name: string): MemTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new Error(`topic "${name}" does not exist; create it with ensureTopics()`);
    return topic;
  }

  private rebalance(group: MemGroup): void {
    group.generation++;
    const count = this.topic(group.topic).partitions.length;
    // The same sticky assignment the Kafka adapter uses, so members keep their home partitions.
    const assignment = stickyAssign(
      Array.from({ length: count }, (_, p) => p),
      group.members.map((m) => ({ id: String(m.id).padStart(12, '0'), previous: m.assigned })),
    );
    for (const m of group.members)
      m.assigned = assignment.get(String(m.id).padStart(12, '0')) ?? [];
    const generation = group.generation;
    for (const m of group.members) {
      for (const w of m.wakers) w();
      m.options.onAssign?.([...m.assigned]);
      for (const p of m.assigned) {
        const previous = group.loops.get(p) ?? Promise.resolve();
        const loop = previous.then(() => this.runPartition(group, m, p, generation));
        group.loops.set(p, loop);
      }
    }
  }

  private async runPartition(
    group: MemGroup,
    member: MemMember,
    index: number,
    generation: number,
  ): Promise<void> {
    const partition = this.topic(group.topic).partitions[index]!;
    const owns = () =>
      !member.stopped && group.generation === generation && member.assigned.includes(index);
    while (owns()) {
      if (!group.committed.has(index))
        group.committed.set(index, member.options.fromBeginning ? partition.base : partition.end);
      const position = Math.max(group.committed.get(index)!, partition.base);
      if (member.paused || position >= partition.end) {
        const wait = partition.waitForData();
        member.wakers.add(wait.cancel);
        await wait.promise;
        member.wakers.delete(wait.cancel);
        continue;
      }
      const slice = partition.records.slice(
        position - partition.base,
        position - partition.base + MAX_BATCH,
      );
      const records: RawRecord[] = slice.map((r) => ({
        topic: group.topic,
        partition: index,
        offset: String(r.offset),
        key: r.key,
        value: r.value,
        headers: { ...r.headers },
      }));
      try {
        await member.handler(records, {
          resolveOffset: (offset) => {
            if (!owns()) return;
            const next = Number(offset) + 1;
            if (next > (group.committed.get(index) ?? 0)) group.committed.set(index, next);
          },
          heartbeat: async () => undefined,
          isStale: () => !owns(),
        });
      } catch {
        // The batch handler failed as a whole: what was not resolved is read again.
      }
      this.trim(group.topic, index);
      // Yield so a flood on one partition cannot starve timers and other partitions.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Drops records every group of the topic has committed past. */
  private trim(topic: string, index: number): void {
    let min = Infinity;
    for (const g of this.groups.values()) {
      if (g.topic !== topic) continue;
      min = Math.min(min, g.committed.get(index) ?? 0);
    }
    const partition = this.topic(topic).partitions[index]!;
    if (min === Infinity || min <= partition.base) return;
    partition.records.splice(0, min - partition.base);
    partition.base = min;
  }

  pause(member: MemMember): void {
    member.paused = true;
  }
}

function hashKey(key: string): number {
  // FNV-1a: stable across processes, so a key always lands on the same partition.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The broker embedded services share when none is given. */
export const defaultMemoryBroker = new MemoryBroker();

export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  private closed = false;

  constructor(readonly broker: MemoryBroker = defaultMemoryBroker) {}

  async produce(records: ProduceRecord[]): Promise<void> {
    for (const r of records) this.broker.append(r);
  }

  async consume(options: ConsumeOptions, handler: BatchHandler): Promise<TransportConsumer> {
    const member = this.broker.join(options, handler);
    return {
      pause: () => this.broker.pause(member),
      stop: () => this.broker.leave(member),
    };
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) this.broker.createTopic(spec);
  }

  async prepareReplyGroup(): Promise<void> {
    // Groups start where the topic ends only when asked to; reply groups read from the start.
  }

  async partitionCount(topic: string): Promise<number> {
    return this.broker.partitionCount(topic);
  }

  async isHealthy(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
