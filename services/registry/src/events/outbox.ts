import { randomUUID } from 'node:crypto';
import type { MessageBus } from '@toolbus/messaging';
import { Counter, Gauge, metric, type Logger } from '@toolbus/observability';
import { rowsOf, type DataSource, type EntityManager } from '@toolbus/persistence';

/** An event to publish once the transaction that wrote it commits. */
export interface OutboxEvent {
  topic: string;
  key: string;
  type: string;
  payload: unknown;
  id?: string;
}

/** Writes events in the caller's transaction: they exist exactly when the change does. */
export async function enqueue(em: EntityManager, events: OutboxEvent[]): Promise<void> {
  for (const e of events) {
    await em.query(
      'INSERT INTO outbox (topic, key, type, event_id, payload) VALUES ($1, $2, $3, $4, $5)',
      [e.topic, e.key, e.type, e.id ?? randomUUID(), JSON.stringify(e.payload)],
    );
  }
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  type: string;
  event_id: string;
  payload: unknown;
}

const outboxMetrics = {
  pending: () =>
    metric(
      'toolbus_registry_outbox_pending',
      (r) =>
        new Gauge({
          name: 'toolbus_registry_outbox_pending',
          help: 'Committed change and audit events not yet published to Kafka',
          registers: [r],
        }),
    ),
  published: () =>
    metric(
      'toolbus_registry_outbox_published_total',
      (r) =>
        new Counter({
          name: 'toolbus_registry_outbox_published_total',
          help: 'Events the outbox relay published, by topic',
          labelNames: ['topic'],
          registers: [r],
        }),
    ),
};

/**
 * Takes the relay's lock for the rest of the transaction, keyed by the schema: advisory locks
 * are database-wide, and registries in other schemas of the same database (the embedded mode,
 * tests, a shared server) have outboxes of their own to publish meanwhile.
 */
export const OUTBOX_LOCK_SQL =
  "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.registry.outbox')) AS locked";

const BATCH = 100;
const KEEP_PUBLISHED_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Publishes committed outbox events in commit order. One relay at a time holds an advisory
 * lock (per schema), so replicas never interleave events of one tool (a compacted topic keeps
 * the last one written, which must be the newest): their ids follow the tool's revisions,
 * since a change takes the tool's row lock before it numbers its revision and its events.
 * Each commit kicks the relay; a slow poll picks up what a crashed replica left. Delivery is
 * at least once; readers order by revision.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastCleanup = 0;

  constructor(
    private readonly db: DataSource,
    private readonly bus: Pick<MessageBus, 'publish'>,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Publishes pending events now (coalesced with a run in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch(async (error: unknown) => {
        this.logger.warn({ err: error }, 'outbox relay failed; retrying on the next poll');
        // What is waiting is what an SRE needs to see while Kafka is away.
        await this.countPending().catch(() => undefined);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once everything committed before the call is published (tests, shutdown). */
  async flush(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await this.running;
      const [row] = rowsOf<{ n: string }>(
        await this.db.query('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL'),
      );
      if (Number(row?.n ?? 0) === 0) return;
      this.kick();
      await this.running;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async countPending(): Promise<void> {
    const [row] = rowsOf<{ n: string }>(
      await this.db.query('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL'),
    );
    outboxMetrics.pending().set(Number(row?.n ?? 0));
  }

  private async drain(): Promise<void> {
    for (;;) {
      const published = await this.db.transaction(async (em) => {
        const [lock] = rowsOf<{ locked: boolean }>(await em.query(OUTBOX_LOCK_SQL));
        if (!lock?.locked) return 0;
        const rows = rowsOf<OutboxRow>(
          await em.query(
            `SELECT id, topic, key, type, event_id, payload FROM outbox
             WHERE published_at IS NULL ORDER BY id LIMIT ${BATCH}`,
          ),
        );
        for (const row of rows) {
          await this.bus.publish(row.topic, {
            type: row.type,
            key: row.key,
            id: row.event_id,
            value: row.payload,
          });
          outboxMetrics.published().inc({ topic: row.topic });
        }
        if (rows.length)
          await em.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1)', [
            rows.map((r) => r.id),
          ]);
        return rows.length;
      });
      if (published < BATCH) break;
    }
    // Drained: what is left was committed after this run began, and kicks a run of its own.
    outboxMetrics.pending().set(0);
    if (Date.now() - this.lastCleanup > 60 * 60 * 1000) {
      this.lastCleanup = Date.now();
      await this.db.query(
        `DELETE FROM outbox WHERE published_at < now() - interval '${KEEP_PUBLISHED_MS / 1000} seconds'`,
      );
    }
  }
}
