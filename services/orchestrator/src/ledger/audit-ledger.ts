import {
  AuditScopes,
  hasScope,
  type AuditChainPage,
  type AuditChainQuery,
  type AuditEvent,
  type AuditPage,
  type AuditQuery,
  type Principal,
} from '@toolbus/contracts';
import { Counter, metric, type Logger } from '@toolbus/observability';
import type { AuditCipher } from '@toolbus/security';
import {
  auditEntryOf,
  chainRowOf,
  unsealedRow,
  type LedgerRow,
  type SealedFields,
} from './ledger-record.js';
import type { Appended, LedgerStore } from './ledger-store.js';

const SEALED_FIELD = 'sealed';

const events = () =>
  metric(
    'toolbus_audit_ledger_events_total',
    (r) =>
      new Counter({
        name: 'toolbus_audit_ledger_events_total',
        help: 'Audit events the ledger took: appended, duplicate (a redelivery), failed (retried)',
        labelNames: ['result'],
        registers: [r],
      }),
  );

export interface AuditLedgerOptions {
  /** Keep tool call arguments (sealed); else only their hash. */
  keepArguments: boolean;
  /** Largest page of `list`; the chain's pages are ten times larger. */
  pageLimit: number;
  clock?: () => Date;
}

/** Who may read which tenant's rows: a refusal the controller turns into a 403. */
export type TenantAccess = { tenant: string | undefined } | { refusal: string };

/**
 * The tenant a caller reads, from its verified token alone: with `audit:read_all` the one the
 * query names (or every tenant), with `audit:read` its own, and naming another is refused
 * rather than ignored, so a script that asked for tenant B never mistakes A's rows for B's.
 */
export function tenantAccess(caller: Principal, requested: string | undefined): TenantAccess {
  if (hasScope(caller, AuditScopes.readAll)) return { tenant: requested };
  if (!hasScope(caller, AuditScopes.read))
    return { refusal: `reading the audit ledger needs the scope ${AuditScopes.read}` };
  if (requested !== undefined && requested !== caller.tenant)
    return {
      refusal: `${AuditScopes.read} reads only your own tenant's rows (${caller.tenant}); tenant ${requested} needs ${AuditScopes.readAll}`,
    };
  return { tenant: caller.tenant };
}

/**
 * The audit ledger: turns audit events into sealed, chained rows, and reads them back for the
 * API, opening the sealed fields with the key each row names.
 */
export class AuditLedger {
  constructor(
    private readonly store: LedgerStore,
    private readonly cipher: AuditCipher,
    private readonly options: AuditLedgerOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * Stores one event, once: a redelivered event finds its row. Resolves only when the row is
   * durable; a failure (PostgreSQL away, the key not mounted) rejects, and the bus retries
   * with backoff while the offset waits. A row that can never be stored rejects with a
   * NonRetryableError and is parked on the dead-letter topic.
   */
  async record(event: AuditEvent, source: string): Promise<Appended> {
    const now = this.options.clock?.() ?? new Date();
    const { columns, sealed } = unsealedRow(event, {
      source,
      recordedAt: now,
      keepArguments: this.options.keepArguments,
    });
    try {
      const key = await this.cipher.current();
      const appended = await this.store.append({
        ...columns,
        key_id: key.id,
        sealed: key.seal({ rowId: columns.event_id, field: SEALED_FIELD }, JSON.stringify(sealed)),
      });
      events().inc({ result: appended.duplicate ? 'duplicate' : 'appended' });
      if (appended.duplicate)
        this.logger.debug({ eventId: event.id, sequence: appended.sequence }, 'already recorded');
      return appended;
    } catch (error) {
      events().inc({ result: 'failed' });
      throw error;
    }
  }

  /** A page of rows, newest first; `tenant` is the one {@link tenantAccess} decided. */
  async list(query: AuditQuery, tenant: string | undefined): Promise<AuditPage> {
    const limit = Math.min(query.limit ?? 50, this.options.pageLimit);
    const rows = await this.store.list({
      ...(tenant !== undefined ? { tenant } : {}),
      ...(query.principal !== undefined ? { principal: query.principal } : {}),
      ...(query.tool !== undefined ? { tool: query.tool } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.decision !== undefined ? { decision: query.decision } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.until !== undefined ? { until: query.until } : {}),
      ...(query.cursor !== undefined ? { before: query.cursor } : {}),
      limit,
    });
    const items = await Promise.all(
      rows.map(async (row) => auditEntryOf(row, await this.open(row))),
    );
    const last = rows[rows.length - 1];
    return { items, nextCursor: rows.length === limit && last ? String(last.sequence) : null };
  }

  /** Stored rows in sequence order, as they are: verifying needs no key. */
  async chain(query: AuditChainQuery): Promise<AuditChainPage> {
    const limit = Math.min(query.limit ?? this.options.pageLimit * 10, this.options.pageLimit * 10);
    const { head, rows } = await this.store.chain(query.after ?? 0, limit);
    const last = rows[rows.length - 1];
    return {
      head,
      items: rows.map(chainRowOf),
      nextAfter: rows.length === limit && last ? last.sequence : null,
    };
  }

  private async open(row: LedgerRow): Promise<{ fields: SealedFields } | { error: string }> {
    try {
      const text = await this.cipher.open(
        row.key_id,
        { rowId: row.event_id, field: SEALED_FIELD },
        row.sealed,
      );
      return { fields: JSON.parse(text) as SealedFields };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }
}
