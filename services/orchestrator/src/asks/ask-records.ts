import {
  type AskCompleted,
  type AskFailed,
  type AskProgress,
  Messages,
  Topics,
} from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import type { StateStore } from '@toolbus/state';
import type { ProgressPort } from './ports.js';

/** An ask as any replica (and the gateway, through the orchestrator) can read it. */
export interface AskRecord {
  askId: string;
  contextId: string;
  tenant: string;
  subject: string;
  status: 'running' | 'completed' | 'failed';
  completed?: AskCompleted;
  failed?: AskFailed;
}

const keys = {
  record: (askId: string) => `ask:${askId}`,
  events: (askId: string) => `ask:${askId}:events`,
  seq: (askId: string) => `ask:${askId}:seq`,
};

/**
 * Asks in the shared state store: the record (who asked, its status and its answer) and its
 * progress events in order, kept `ttlMs` after the last change, so a caller can read an ask,
 * or resume its event stream (`after` a sequence number), from whichever replica it reaches.
 * Each progress event is also published on `toolbus.ask.progress`, keyed by conversation.
 */
export class AskRecords {
  constructor(
    private readonly store: StateStore,
    private readonly bus: Pick<MessageBus, 'publish'>,
    private readonly logger: Logger,
    private readonly ttlMs: number,
  ) {}

  async start(record: Omit<AskRecord, 'status'>): Promise<void> {
    const known = await this.get(record.askId);
    if (known) return; // a redelivered ask keeps its record and its events
    await this.save({ ...record, status: 'running' });
  }

  async complete(askId: string, completed: AskCompleted): Promise<void> {
    const record = await this.get(askId);
    if (record) await this.save({ ...record, status: 'completed', completed });
  }

  async fail(askId: string, failed: AskFailed): Promise<void> {
    const record = await this.get(askId);
    if (record) await this.save({ ...record, status: 'failed', failed });
  }

  async get(askId: string): Promise<AskRecord | undefined> {
    const text = await this.store.get(keys.record(askId));
    return text ? (JSON.parse(text) as AskRecord) : undefined;
  }

  /** Progress events of an ask after sequence number `after` (all for -1). */
  async events(askId: string, after = -1): Promise<AskProgress[]> {
    const all = (await this.store.listRange(keys.events(askId))).map(
      (e) => JSON.parse(e) as AskProgress,
    );
    return all.filter((e) => e.seq > after).sort((a, b) => a.seq - b.seq);
  }

  /** The progress port of one ask: numbered events, stored, then published. */
  progressOf(askId: string): ProgressPort {
    return {
      publish: async (event) => {
        try {
          // Parallel tool calls report at once: the counter numbers them atomically.
          const seq = (await this.store.increment(keys.seq(askId), 1, { ttlMs: this.ttlMs })) - 1;
          const progress: AskProgress = { ...event, seq, at: new Date().toISOString() };
          await this.store.listAppend(keys.events(askId), [JSON.stringify(progress)], {
            maxLength: 10_000,
            ttlMs: this.ttlMs,
          });
          await this.bus.publish(Topics.askProgress, {
            type: Messages.askProgress.type,
            key: event.contextId,
            value: progress,
          });
        } catch (error) {
          // Progress is for watchers; the ask itself goes on without it.
          this.logger.warn({ err: error, askId }, 'ask progress could not be recorded');
        }
      },
    };
  }

  private async save(record: AskRecord): Promise<void> {
    await this.store.set(keys.record(record.askId), JSON.stringify(record), { ttlMs: this.ttlMs });
  }
}
