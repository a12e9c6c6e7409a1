import type { Logger } from '@toolbus/observability';
import { busMetrics } from '../core/metrics.js';

/** The broker's answers the lag needs; the Kafka admin in production, a fake in unit tests. */
export interface LagSource {
  /** Each partition's log start (`low`) and high watermark (`high`, the next offset to be written). */
  watermarks(topic: string): Promise<Array<{ partition: number; low: string; high: string }>>;
  /** The group's committed offsets (the next offset to read; `-1` where it never committed). */
  committed(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>>;
}

export interface ConsumerLagOptions {
  /** How often the broker is asked for high watermarks and committed offsets. */
  intervalMs: number;
  logger: Logger;
}

interface PartitionState {
  /** Next offset this member will read, as far as it knows (fetched or resolved). */
  position?: number;
  committed?: number;
  low?: number;
  high?: number;
}

/**
 * One consumer's share of `toolbus_bus_consumer_lag`: the partitions this member owns, each
 * with how far it has read. Only owned partitions are reported, so the replicas of a group
 * never count a partition twice and `sum by (topic, group)` is the group's lag.
 */
export class LagTracker {
  private partitions = new Map<number, PartitionState>();
  private stopped = false;

  constructor(
    readonly groupId: string,
    readonly topic: string,
    private readonly fromBeginning: boolean,
    private readonly onStop: (tracker: LagTracker) => void,
  ) {}

  /** After a (re)assignment: revoked partitions leave the gauge, new ones start unknown. */
  assigned(partitions: readonly number[]): void {
    if (this.stopped) return;
    const next = new Map<number, PartitionState>();
    for (const p of partitions) next.set(p, this.partitions.get(p) ?? {});
    for (const p of this.partitions.keys()) if (!next.has(p)) this.remove(p);
    this.partitions = next;
  }

  /**
   * A fetched batch: this member is at `firstOffset` at least (it holds it, unfinished), and
   * the broker said where the log ends, so the gauge moves without asking the broker.
   */
  fetched(partition: number, firstOffset: string, highWatermark: string): void {
    const state = this.partitions.get(partition);
    if (!state) return;
    state.position = Math.max(state.position ?? 0, Number(firstOffset));
    state.high = Math.max(state.high ?? 0, Number(highWatermark));
    this.publish(partition, state);
  }

  /** An offset finished: the next one to read is after it. */
  resolved(partition: number, offset: string): void {
    const state = this.partitions.get(partition);
    if (!state) return;
    state.position = Math.max(state.position ?? 0, Number(offset) + 1);
    if (state.high !== undefined) this.publish(partition, state);
  }

  /** Fresh watermarks and commits from the broker, for the partitions this member owns. */
  refreshed(
    watermarks: Array<{ partition: number; low: string; high: string }>,
    committed: Array<{ partition: number; offset: string }>,
  ): void {
    for (const w of watermarks) {
      const state = this.partitions.get(w.partition);
      if (!state) continue;
      state.low = Number(w.low);
      state.high = Number(w.high);
    }
    for (const c of committed) {
      const state = this.partitions.get(c.partition);
      if (state && Number(c.offset) >= 0) state.committed = Number(c.offset);
    }
    for (const [partition, state] of this.partitions) {
      if (state.high !== undefined) this.publish(partition, state);
    }
  }

  /** Leaves the gauge: the consumer stopped. */
  stop(): void {
    this.stopped = true;
    for (const p of this.partitions.keys()) this.remove(p);
    this.partitions.clear();
    this.onStop(this);
  }

  private publish(partition: number, state: PartitionState): void {
    const high = state.high ?? 0;
    const known = Math.max(state.position ?? -1, state.committed ?? -1);
    // Nothing read or committed yet: a group that starts at the beginning has the whole log
    // ahead; one that starts at the end is at the end (kafkajs commits nothing until it reads).
    const position = known >= 0 ? known : this.fromBeginning ? (state.low ?? 0) : high;
    busMetrics
      .consumerLag()
      .set(this.labels(partition), Math.max(0, high - Math.min(position, high)));
  }

  private remove(partition: number): void {
    busMetrics.consumerLag().remove(this.labels(partition));
  }

  private labels(partition: number) {
    return { topic: this.topic, partition: String(partition), group: this.groupId };
  }
}

/**
 * Keeps `toolbus_bus_consumer_lag` current for a transport's consumers: batches move it as they
 * are fetched and finished, and every `intervalMs` one round asks the broker for each topic's
 * high watermarks and each group's commits, so a consumer that is stuck or idle still shows
 * the messages piling up. The timer is unref'd (it never keeps a process alive) and runs only
 * while a consumer is tracked.
 */
export class ConsumerLagMonitor {
  private readonly trackers = new Set<LagTracker>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly source: LagSource,
    private readonly options: ConsumerLagOptions,
  ) {}

  track(groupId: string, topic: string, fromBeginning: boolean): LagTracker {
    const tracker = new LagTracker(groupId, topic, fromBeginning, (t) => this.untrack(t));
    this.trackers.add(tracker);
    if (!this.timer && this.options.intervalMs > 0) {
      this.timer = setInterval(() => void this.refresh(), this.options.intervalMs);
      this.timer.unref();
    }
    return tracker;
  }

  /** One round of broker queries (one per topic and one per group); rounds never overlap. */
  refresh(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer and takes every tracked consumer out of the gauge (the transport closes). */
  close(): void {
    this.stopTimer();
    for (const tracker of [...this.trackers]) tracker.stop();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private untrack(tracker: LagTracker): void {
    this.trackers.delete(tracker);
    if (this.trackers.size === 0) this.stopTimer();
  }

  private async round(): Promise<void> {
    const watermarks = new Map<string, ReturnType<LagSource['watermarks']>>();
    await Promise.all(
      [...this.trackers].map(async (t) => {
        try {
          let marks = watermarks.get(t.topic);
          if (!marks) watermarks.set(t.topic, (marks = this.source.watermarks(t.topic)));
          const [w, c] = await Promise.all([marks, this.source.committed(t.groupId, t.topic)]);
          t.refreshed(w, c);
        } catch (error) {
          // The broker is away or the group rebalancing: the gauge keeps its last value.
          this.options.logger.debug(
            { err: error, topic: t.topic, group: t.groupId },
            'could not read consumer lag',
          );
        }
      }),
    );
  }
}
