import type { Logger } from '@toolbus/observability';
import { rowsOf, type DataSource } from '@toolbus/persistence';
import type { Worker } from '@toolbus/service-kit';
import { toolMetrics } from './metrics.js';

export interface DedupRetentionOptions {
  service: string;
  /** Finished records older than this are deleted. */
  retentionHours: number;
  /** How often a run starts; the first starts with the worker. */
  intervalMs: number;
  /** Rows deleted per transaction. Default 1000. */
  batchSize?: number;
}

/**
 * Deletes the dedup records of calls that finished more than `retentionHours` ago, and claims
 * abandoned as long ago (a holder that died and whose key never came back), so the table does
 * not grow with every call ever made. A repeat of a deleted key runs again: keep the retention
 * well beyond any retry window. It deletes in batches, one transaction each, so no run holds
 * many row locks or a long transaction; each batch takes a transaction-scoped advisory lock
 * per schema, and a replica that does not get it stops its run, so one replica purges at a
 * time and the others skip.
 */
export class DedupRetention implements Worker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;
  private readonly batchSize: number;

  constructor(
    private readonly db: DataSource,
    private readonly logger: Logger,
    private readonly options: DedupRetentionOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
  }

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One run now (coalesced with a run in progress); resolves with the rows it deleted. */
  runOnce(): Promise<number> {
    this.running ??= this.purge()
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'dedup retention failed; retrying at the next run');
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.db.transaction(async (em) => {
        const [lock] = rowsOf<{ locked: boolean }>(
          await em.query(
            `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.tool_call_dedup.retention')) AS locked`,
          ),
        );
        if (!lock?.locked) return -1;
        return rowsOf(
          await em.query(
            `DELETE FROM tool_call_dedup WHERE (tenant, idempotency_key) IN (
               SELECT tenant, idempotency_key FROM tool_call_dedup
               WHERE (status <> 'running' AND updated_at < now() - make_interval(hours => $1))
                  OR (status = 'running' AND lease_until < now() - make_interval(hours => $1))
               LIMIT $2)
             RETURNING 1`,
            [this.options.retentionHours, this.batchSize],
          ),
        ).length;
      });
      if (deleted > 0) {
        total += deleted;
        toolMetrics.dedupPurged().inc({ service: this.options.service }, deleted);
      }
      if (deleted < this.batchSize || this.stopped) break;
    }
    if (total > 0)
      this.logger.info(
        { deleted: total, retentionHours: this.options.retentionHours },
        'dedup records past retention deleted',
      );
    return total;
  }
}
