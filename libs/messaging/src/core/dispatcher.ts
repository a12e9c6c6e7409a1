import type { Logger } from '@toolbus/observability';
import { errorMessage, isRetryable } from './errors.js';
import { Semaphore, sleep } from './semaphore.js';
import type { BatchHooks, RawRecord } from './transport.js';
import type { IncomingMessage, RetryPolicy, SubscriptionStats } from './types.js';

/** Why a record was parked on the dead-letter topic. */
export interface DeadLetterInfo {
  reason: string;
  errorName: string;
  attempts: number;
}

export interface DispatcherOptions<T> {
  concurrency: number;
  retry: Required<RetryPolicy>;
  /** Decodes and validates a record; throws PoisonMessageError when it cannot. */
  decode(record: RawRecord, signal: AbortSignal): IncomingMessage<T>;
  handle(message: IncomingMessage<T>): Promise<void>;
  /** Parks a record on the DLQ; must resolve only once that is durable. */
  deadLetter(record: RawRecord, info: DeadLetterInfo): Promise<void>;
  logger: Logger;
  /** Called when a message finished, for metrics. */
  observe?(outcome: 'handled' | 'dead_lettered' | 'expired' | 'retried', seconds: number): void;
}

const HEARTBEAT_MS = 1000;

/**
 * Runs the records of a subscription through its handler with
 * - bounded concurrency (at most `concurrency` in flight; the next batch of a partition is not
 *   fetched until this one is done, so memory is bounded by the fetch size, not the backlog),
 * - per-key order (records with the same key run one after another; different keys in parallel),
 * - offsets resolved only up to the first unfinished record, so a crash redelivers what was not done,
 * - retries with backoff, then the dead-letter topic, so one poison record never blocks a partition.
 */
export class Dispatcher<T> {
  private readonly limiter: Semaphore;
  private stopping = false;
  /** Aborted when shutdown starts: backoff sleeps end at once. */
  private readonly stopSignal = new AbortController();
  /** Aborted when the shutdown deadline passes: handlers should give up. */
  private readonly handlerAbort = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private readonly counters: SubscriptionStats = {
    inFlight: 0,
    maxInFlight: 0,
    buffered: 0,
    maxBuffered: 0,
    handled: 0,
    retried: 0,
    deadLettered: 0,
    expired: 0,
  };

  constructor(private readonly options: DispatcherOptions<T>) {
    this.limiter = new Semaphore(options.concurrency);
  }

  stats(): SubscriptionStats {
    return { ...this.counters };
  }

  /** Shutdown: start nothing new, wait for in-flight work until the deadline, then abort it. */
  async drain(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    const all = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadlineMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.options.logger.warn(
        { inFlight: this.counters.inFlight },
        'shutdown deadline passed; aborting in-flight handlers',
      );
      this.handlerAbort.abort(new Error('consumer shutting down'));
      await all;
    }
  }

  async processBatch(records: RawRecord[], hooks: BatchHooks): Promise<void> {
    const batch = this.track(this.runBatch(records, hooks));
    await batch;
  }

  private track<P extends Promise<unknown>>(p: P): P {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  private async runBatch(records: RawRecord[], hooks: BatchHooks): Promise<void> {
    const order = records.map((r) => r.offset);
    const done = new Set<string>();
    let next = 0;
    const advance = () => {
      while (next < order.length && done.has(order[next]!)) hooks.resolveOffset(order[next++]!);
    };
    const chains = new Map<string, Promise<boolean>>();
    const started: Promise<boolean>[] = [];
    let unstarted = records.length;
    this.counters.buffered += unstarted;
    this.counters.maxBuffered = Math.max(this.counters.maxBuffered, this.counters.buffered);
    const heartbeat = setInterval(
      () => void hooks.heartbeat().catch(() => undefined),
      HEARTBEAT_MS,
    );
    const halted = () => this.stopping || hooks.isStale();
    try {
      for (const record of records) {
        if (halted()) break;
        await this.limiter.acquire();
        if (halted()) {
          this.limiter.release();
          break;
        }
        unstarted--;
        this.counters.buffered--;
        this.counters.inFlight++;
        this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.counters.inFlight);
        const previous = record.key === null ? undefined : chains.get(record.key);
        const task = (async (): Promise<boolean> => {
          try {
            // Same key: wait for the earlier record, and if it did not finish, do not overtake it.
            if (previous && !(await previous)) return false;
            const finished = await this.handleRecord(record, hooks);
            if (finished) {
              done.add(record.offset);
              advance();
            }
            return finished;
          } catch (error) {
            this.options.logger.error(
              { err: error, topic: record.topic, offset: record.offset },
              'record left unfinished; it will be redelivered',
            );
            return false;
          } finally {
            this.counters.inFlight--;
            this.limiter.release();
          }
        })();
        if (record.key !== null) chains.set(record.key, task);
        started.push(task);
      }
      await Promise.all(started);
    } finally {
      clearInterval(heartbeat);
      this.counters.buffered -= unstarted;
    }
  }

  /** True when the record is finished (handled, expired or dead-lettered) and may be committed. */
  private async handleRecord(record: RawRecord, hooks: BatchHooks): Promise<boolean> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let message: IncomingMessage<T>;
    try {
      message = this.options.decode(record, this.handlerAbort.signal);
    } catch (error) {
      await this.deadLetter(record, error, 1);
      this.options.observe?.('dead_lettered', seconds());
      return true;
    }
    const deadline = message.event.deadline;
    if (deadline && Date.parse(deadline) < Date.now()) {
      // Nobody waits for this request any more; its caller has had a timeout error.
      this.counters.expired++;
      this.options.logger.warn(
        { topic: record.topic, offset: record.offset, deadline },
        'request expired before it was handled; skipped',
      );
      this.options.observe?.('expired', seconds());
      return true;
    }
    const { attempts, initialDelayMs, maxDelayMs } = this.options.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handle({ ...message, attempt });
        this.counters.handled++;
        this.options.observe?.('handled', seconds());
        return true;
      } catch (error) {
        if (!isRetryable(error) || attempt >= attempts) {
          await this.deadLetter(record, error, attempt);
          this.options.observe?.('dead_lettered', seconds());
          return true;
        }
        this.counters.retried++;
        this.options.observe?.('retried', seconds());
        this.options.logger.warn(
          { err: error, topic: record.topic, offset: record.offset, attempt },
          'handler failed; retrying',
        );
        const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2), this.stopSignal.signal);
        // Shutting down or partition revoked: leave it uncommitted for the next owner.
        if (this.stopping || hooks.isStale()) return false;
      }
    }
  }

  private async deadLetter(record: RawRecord, error: unknown, attempts: number): Promise<void> {
    const info: DeadLetterInfo = {
      reason: errorMessage(error),
      errorName: error instanceof Error ? error.name : 'Error',
      attempts,
    };
    await this.options.deadLetter(record, info);
    this.counters.deadLettered++;
    this.options.logger.error(
      { topic: record.topic, partition: record.partition, offset: record.offset, ...info },
      'message parked on the dead-letter topic',
    );
  }
}
