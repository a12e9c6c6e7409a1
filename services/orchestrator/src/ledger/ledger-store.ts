import { appendToChain, ChainHead, type AuditDecision } from '@toolbus/contracts';
import { NonRetryableError } from '@toolbus/messaging';
import { rowsOf, type DataSource, type EntityManager } from '@toolbus/persistence';
import {
  chainRecordOf,
  LEDGER_COLUMNS,
  ledgerRowOf,
  type DbRow,
  type LedgerColumns,
  type LedgerRow,
} from './ledger-record.js';

/** Which rows `list` answers, newest first; every filter narrows. */
export interface LedgerFilter {
  tenant?: string;
  principal?: string;
  tool?: string;
  action?: string;
  decision?: AuditDecision;
  /** ISO timestamps: `since` <= at < `until`. */
  since?: string;
  until?: string;
  /** Only rows with a lower sequence (the previous page's last). */
  before?: number;
  limit: number;
}

/** The outcome of an append: the event's row, new or already there. */
export interface Appended {
  sequence: number;
  duplicate: boolean;
}

/** Port: where the ledger's rows are kept. */
export interface LedgerStore {
  /**
   * Appends a row for the event after the chain's head, or, when the event already has a row
   * (a redelivery), answers that one and appends nothing. Throws a NonRetryableError when the
   * row itself can never be stored; any other error is worth retrying (the database is away).
   */
  append(columns: LedgerColumns): Promise<Appended>;
  list(filter: LedgerFilter): Promise<LedgerRow[]>;
  /** The head, then up to `limit` rows after `after` in sequence order. */
  chain(after: number, limit: number): Promise<{ head: ChainHead; rows: LedgerRow[] }>;
}

const SELECT = `SELECT sequence, prev_hash, hash, ${LEDGER_COLUMNS.join(', ')} FROM audit_ledger`;
const INSERT = `INSERT INTO audit_ledger (sequence, prev_hash, hash, ${LEDGER_COLUMNS.join(', ')})
  VALUES (${[...Array(LEDGER_COLUMNS.length + 3).keys()].map((i) => `$${i + 1}`).join(', ')})`;

/**
 * The ledger on PostgreSQL (PGlite in the embedded mode; one schema, one migration). Appends
 * are serialized by the chain head: each transaction locks the head row (`FOR UPDATE`) before
 * it reads it, so two replicas never chain two rows to the same predecessor, and the event-id
 * check under that lock sees every committed row, so a redelivered event finds its row instead
 * of racing a twin. The insert trigger refuses a row that does not follow the head and moves
 * the head itself, in the same transaction: a crash between the two cannot happen.
 *
 * Within one instance appends also wait for each other: they would queue on the head's lock
 * anyway, and PGlite has a single connection, on which two transactions would interleave
 * rather than lock (the insert trigger refuses the second row then; here it never comes to it).
 */
export class PgLedgerStore implements LedgerStore {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: DataSource) {}

  async append(columns: LedgerColumns): Promise<Appended> {
    try {
      return await this.oneAtATime(() => this.db.transaction((m) => this.appendIn(m, columns)));
    } catch (error) {
      throw permanent(error) ? new NonRetryableError(describe(error, columns)) : error;
    }
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async appendIn(m: EntityManager, columns: LedgerColumns): Promise<Appended> {
    const [head] = rowsOf<DbRow>(
      await m.query('SELECT sequence, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE'),
    );
    if (!head) throw new Error('the audit chain head is missing: run the migrations');
    const [existing] = rowsOf<DbRow>(
      await m.query('SELECT sequence FROM audit_ledger WHERE event_id = $1', [columns.event_id]),
    );
    if (existing) return { sequence: Number(existing['sequence']), duplicate: true };
    const row = appendToChain(
      { sequence: Number(head['sequence']), hash: String(head['hash']) },
      chainRecordOf(columns),
    );
    await m.query(INSERT, [
      row.sequence,
      row.prevHash,
      row.hash,
      ...LEDGER_COLUMNS.map((name) => columns[name]),
    ]);
    return { sequence: row.sequence, duplicate: false };
  }

  async list(filter: LedgerFilter): Promise<LedgerRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.tenant !== undefined) add('tenant = ?', filter.tenant);
    if (filter.principal !== undefined) add('actor_subject = ?', filter.principal);
    if (filter.tool !== undefined) add('tool = ?', filter.tool);
    if (filter.action !== undefined) add('action = ?', filter.action);
    if (filter.decision !== undefined) add('decision = ?', filter.decision);
    if (filter.since !== undefined) add('at >= ?', filter.since);
    if (filter.until !== undefined) add('at < ?', filter.until);
    if (filter.before !== undefined) add('sequence < ?', filter.before);
    params.push(filter.limit);
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY sequence DESC LIMIT $${params.length}`;
    return rowsOf<DbRow>(await this.db.query(sql, params)).map(ledgerRowOf);
  }

  async chain(after: number, limit: number): Promise<{ head: ChainHead; rows: LedgerRow[] }> {
    // The head first: every row up to it has committed with it, so a page read to its end
    // holds them all.
    const [head] = rowsOf<DbRow>(
      await this.db.query('SELECT sequence, hash FROM audit_chain_head'),
    );
    const rows = rowsOf<DbRow>(
      await this.db.query(`${SELECT} WHERE sequence > $1 ORDER BY sequence LIMIT $2`, [
        after,
        limit,
      ]),
    );
    return {
      head: ChainHead.parse({ sequence: Number(head?.['sequence'] ?? 0), hash: head?.['hash'] }),
      rows: rows.map(ledgerRowOf),
    };
  }
}

/**
 * Errors of the row itself (SQLSTATE class 22, data exception; 23, integrity constraint): no
 * retry will store it. Everything else (connections, a missing table, locks) may pass.
 */
function permanent(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

function describe(error: unknown, columns: LedgerColumns): string {
  const message = error instanceof Error ? error.message : String(error);
  return `audit event ${columns.event_id} cannot be stored: ${message}`;
}
