import { CE_HEADERS } from '@toolbus/contracts';
import { NonRetryableError, ReplyRouteLostError } from './errors.js';
import type { BatchHooks, RawRecord, Transport, TransportConsumer } from './transport.js';

/** A request waiting for its reply on one partition of the reply topic. */
export interface Pending {
  partition: number;
  resolve(record: RawRecord): void;
  reject(error: Error): void;
}

/** Routes replies to the requests this instance waits for (see README: reply routing). */
export class ReplyRouter {
  owned: number[] = [];
  readonly pending = new Map<string, Pending>();
  private readyResolve!: () => void;
  readonly ready = new Promise<void>((r) => (this.readyResolve = r));
  consumer?: TransportConsumer;
  received = 0;
  orphans = 0;

  constructor(readonly topic: string) {}

  onAssign(partitions: number[]): void {
    this.owned = [...partitions].sort((a, b) => a - b);
    const owned = new Set(this.owned);
    for (const [id, p] of this.pending) {
      if (!owned.has(p.partition)) {
        this.pending.delete(id);
        p.reject(new ReplyRouteLostError(this.topic, p.partition));
      }
    }
    if (this.owned.length > 0) this.readyResolve();
  }

  /**
   * The home partition: this instance's lowest. The sticky assignment keeps it with this
   * instance through rebalances, so a reply in flight while replicas join or leave still lands here.
   */
  homePartition(): number {
    const p = this.owned[0];
    if (p === undefined) throw new ReplyRouteLostError(this.topic, undefined);
    return p;
  }

  async handleBatch(records: RawRecord[], hooks: BatchHooks): Promise<void> {
    for (const record of records) {
      this.received++;
      const id = record.headers[CE_HEADERS.correlationid];
      const waiter = id ? this.pending.get(id) : undefined;
      if (waiter && id) {
        this.pending.delete(id);
        waiter.resolve(record);
      } else {
        // A reply whose waiter timed out, or that predates a rebalance: nobody to give it to.
        this.orphans++;
      }
      hooks.resolveOffset(record.offset);
    }
  }
}

/** What an instance's reply route looks like, for tests and health. */
export interface ReplyRouteStats {
  owned: number[];
  received: number;
  orphans: number;
  pending: number;
}

/** This instance's reply routers, one per reply topic, each started on first use. */
export class ReplyRoutes {
  private readonly routers = new Map<string, Promise<ReplyRouter>>();

  constructor(
    private readonly transport: Transport,
    private readonly serviceName: string,
    private readonly assignmentTimeoutMs: number,
  ) {}

  /** The router of `topic`, joining its reply group first if this instance has not yet. */
  route(topic: string): Promise<ReplyRouter> {
    let existing = this.routers.get(topic);
    if (!existing) {
      existing = this.start(topic);
      this.routers.set(topic, existing);
      existing.catch(() => this.routers.delete(topic));
    }
    return existing;
  }

  async stats(topic: string): Promise<ReplyRouteStats | undefined> {
    const router = await this.routers.get(topic)?.catch(() => undefined);
    if (!router) return undefined;
    return {
      owned: [...router.owned],
      received: router.received,
      orphans: router.orphans,
      pending: router.pending.size,
    };
  }

  /** Fails every waiting request with `error` and leaves the reply groups. */
  async close(error: () => Error): Promise<void> {
    for (const routerPromise of this.routers.values()) {
      const router = await routerPromise.catch(() => undefined);
      if (!router) continue;
      for (const p of router.pending.values()) p.reject(error());
      router.pending.clear();
      await router.consumer?.stop();
    }
  }

  private async start(topic: string): Promise<ReplyRouter> {
    const router = new ReplyRouter(topic);
    // One group per requesting service and reply topic: Kafka gives each instance its own
    // partitions of the reply topic, and each request names one of them as its reply partition.
    const groupId = `${this.serviceName}.${topic}.replies`;
    await this.transport.prepareReplyGroup(groupId, topic);
    router.consumer = await this.transport.consume(
      { groupId, topic, fromBeginning: true, onAssign: (p) => router.onAssign(p) },
      (records, hooks) => router.handleBatch(records, hooks),
    );
    const limit = this.assignmentTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NonRetryableError(
              `no partition of ${topic} was assigned to this instance within ${limit} ms: ` +
                'are there more instances of this service than partitions of the reply topic?',
            ),
          ),
        limit,
      );
    });
    try {
      await Promise.race([router.ready, timeout]);
    } catch (error) {
      await router.consumer.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return router;
  }
}
