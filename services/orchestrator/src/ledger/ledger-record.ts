import {
  AuditDecision,
  type AuditEntry,
  type AuditEvent,
  type ChainRow,
  type JsonObject,
} from '@toolbus/contracts';
import { NonRetryableError } from '@toolbus/messaging';

/**
 * The stored columns of a ledger row but its place in the chain (`sequence`, `prev_hash`,
 * `hash`). Exactly these are the chained record: every column a reader sees is covered by the
 * row's hash, the sealed ones as ciphertext (so verifying needs no key).
 */
export interface LedgerColumns {
  event_id: string;
  at: string;
  recorded_at: string;
  source: string;
  tenant: string;
  actor_subject: string;
  actor_kind: string;
  action: string;
  resource_kind: string;
  resource_id: string;
  tool: string | null;
  outcome: string;
  decision: AuditDecision;
  region: string | null;
  context_id: string | null;
  trace_id: string | null;
  latency_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  hash_before: string | null;
  hash_after: string | null;
  key_id: string;
  /** base64 of the AES-256-GCM sealed JSON of {@link SealedFields}. */
  sealed: string;
}

/** A stored row: its columns and its place in the chain. */
export interface LedgerRow extends LedgerColumns {
  sequence: number;
  prev_hash: string;
  hash: string;
}

/** The column names in their stored order (the INSERT's and the SELECT's). */
export const LEDGER_COLUMNS = [
  'event_id',
  'at',
  'recorded_at',
  'source',
  'tenant',
  'actor_subject',
  'actor_kind',
  'action',
  'resource_kind',
  'resource_id',
  'tool',
  'outcome',
  'decision',
  'region',
  'context_id',
  'trace_id',
  'latency_ms',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'hash_before',
  'hash_after',
  'key_id',
  'sealed',
] as const satisfies ReadonlyArray<keyof LedgerColumns>;

/** What is sealed: whatever may name a person or carry their data. */
export interface SealedFields {
  displayName?: string;
  reason?: string;
  details: JsonObject;
  argumentsHash?: string;
  arguments?: unknown;
}

/** A row before it is sealed: its plaintext columns and what goes into `sealed`. */
export interface UnsealedRow {
  columns: Omit<LedgerColumns, 'key_id' | 'sealed'>;
  sealed: SealedFields;
}

export interface RowOptions {
  /** The event's CloudEvents source (the producing service, as it says). */
  source: string;
  recordedAt: Date;
  /** Keep `details.arguments` (sealed); otherwise they are dropped and only the hash kept. */
  keepArguments: boolean;
}

/**
 * The row an audit event becomes. The producers put what the ledger breaks out into columns in
 * `details` (the orchestrator: `decision`, `latencyMs`, `argumentsHash`, tokens and cost of an
 * ask; the model shim: `usage` and `costUsd`; the registry: hashes before and after); what is
 * absent stays null. Values PostgreSQL text cannot hold (a NUL character) make the event
 * unstorable: a {@link NonRetryableError}, so it is parked on the dead-letter topic with the
 * reason instead of blocking the ones behind it.
 */
export function unsealedRow(event: AuditEvent, options: RowOptions): UnsealedRow {
  const details: JsonObject = { ...event.details };
  const args = details['arguments'];
  delete details['arguments'];
  const argumentsHash = text(details['argumentsHash']);
  const columns: UnsealedRow['columns'] = {
    // PostgreSQL answers uuids and timestamps in one spelling; the chain hashes that one.
    event_id: event.id.toLowerCase(),
    at: new Date(event.at).toISOString(),
    recorded_at: options.recordedAt.toISOString(),
    source: options.source,
    tenant: event.tenant,
    actor_subject: event.actor.subject,
    actor_kind: event.actor.kind,
    action: event.action,
    resource_kind: event.resource.kind,
    resource_id: event.resource.id,
    tool: event.resource.kind === 'tool' ? (event.resource.id.split('@')[0] ?? null) : null,
    outcome: event.outcome,
    decision: decisionOf(event),
    region: event.region ?? null,
    context_id: event.contextId ?? null,
    trace_id: event.traceId ?? null,
    latency_ms: finite(details['latencyMs']),
    ...tokensOf(details),
    cost_usd: finite(details['costUsd']),
    hash_before: event.hashBefore ?? null,
    hash_after: event.hashAfter ?? null,
  };
  for (const [name, value] of Object.entries(columns))
    if (typeof value === 'string' && value.includes('\u0000'))
      throw new NonRetryableError(
        `audit event ${event.id} cannot be stored: its ${name} holds a NUL character, which PostgreSQL text cannot`,
      );
  return {
    columns,
    sealed: {
      ...(event.actor.displayName ? { displayName: event.actor.displayName } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
      details,
      ...(argumentsHash ? { argumentsHash } : {}),
      ...(options.keepArguments && args !== undefined ? { arguments: args } : {}),
    },
  };
}

/** The decision a producer states, else `refused` for a denied action and `allowed` for any other. */
export function decisionOf(event: AuditEvent): AuditDecision {
  const stated = AuditDecision.safeParse(event.details['decision']);
  if (stated.success) return stated.data;
  return event.outcome === 'denied' ? 'refused' : 'allowed';
}

function tokensOf(details: JsonObject): {
  input_tokens: number | null;
  output_tokens: number | null;
} {
  const usage = details['usage'];
  const from =
    usage && typeof usage === 'object' && !Array.isArray(usage)
      ? (usage as Record<string, unknown>)
      : details;
  return { input_tokens: count(from['inputTokens']), output_tokens: count(from['outputTokens']) };
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A token count PostgreSQL's integer holds. */
function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 31
    ? value
    : null;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** A row as the database driver answers it (bigint as text, timestamps as Date). */
export type DbRow = Record<string, unknown>;

/** A stored row in the spelling it was chained in, whatever the driver (pg, PGlite) made of it. */
export function ledgerRowOf(db: DbRow): LedgerRow {
  const nullable = (name: string) =>
    db[name] === null || db[name] === undefined ? null : db[name];
  const str = (name: string) => String(db[name]);
  const optStr = (name: string) => (nullable(name) === null ? null : str(name));
  const num = (name: string) => (nullable(name) === null ? null : Number(db[name]));
  return {
    sequence: Number(db['sequence']),
    prev_hash: str('prev_hash'),
    hash: str('hash'),
    event_id: str('event_id'),
    at: isoOf(db['at']),
    recorded_at: isoOf(db['recorded_at']),
    source: str('source'),
    tenant: str('tenant'),
    actor_subject: str('actor_subject'),
    actor_kind: str('actor_kind'),
    action: str('action'),
    resource_kind: str('resource_kind'),
    resource_id: str('resource_id'),
    tool: optStr('tool'),
    outcome: str('outcome'),
    decision: str('decision') as AuditDecision,
    region: optStr('region'),
    context_id: optStr('context_id'),
    trace_id: optStr('trace_id'),
    latency_ms: num('latency_ms'),
    input_tokens: num('input_tokens'),
    output_tokens: num('output_tokens'),
    cost_usd: num('cost_usd'),
    hash_before: optStr('hash_before'),
    hash_after: optStr('hash_after'),
    key_id: str('key_id'),
    sealed: str('sealed'),
  };
}

function isoOf(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

/** The chained record of a row: its columns, by name. */
export function chainRecordOf(columns: LedgerColumns): ChainRow['record'] {
  return Object.fromEntries(LEDGER_COLUMNS.map((name) => [name, columns[name]]));
}

/** A stored row as the chain endpoint answers it. */
export function chainRowOf(row: LedgerRow): ChainRow {
  return {
    sequence: row.sequence,
    prevHash: row.prev_hash,
    hash: row.hash,
    record: chainRecordOf(row),
  };
}

/** A row as `GET /v1/audit` answers it, its sealed fields opened (or why they could not be). */
export function auditEntryOf(
  row: LedgerRow,
  opened: { fields: SealedFields } | { error: string },
): AuditEntry {
  const fields = 'fields' in opened ? opened.fields : undefined;
  const tokens =
    row.input_tokens !== null || row.output_tokens !== null
      ? { input: row.input_tokens ?? 0, output: row.output_tokens ?? 0 }
      : undefined;
  const entry: AuditEntry = {
    sequence: row.sequence,
    eventId: row.event_id,
    at: row.at,
    recordedAt: row.recorded_at,
    source: row.source,
    actor: {
      subject: row.actor_subject,
      kind: row.actor_kind as AuditEntry['actor']['kind'],
      ...(fields?.displayName ? { displayName: fields.displayName } : {}),
    },
    tenant: row.tenant,
    action: row.action,
    resource: { kind: row.resource_kind, id: row.resource_id },
    outcome: row.outcome as AuditEntry['outcome'],
    decision: row.decision,
    keyId: row.key_id,
  };
  const optional: Partial<AuditEntry> = {
    tool: row.tool ?? undefined,
    region: row.region ?? undefined,
    contextId: row.context_id ?? undefined,
    traceId: row.trace_id ?? undefined,
    reason: fields?.reason,
    argumentsHash: fields?.argumentsHash,
    arguments: fields?.arguments,
    details: fields?.details,
    latencyMs: row.latency_ms ?? undefined,
    tokens,
    costUsd: row.cost_usd ?? undefined,
    hashBefore: row.hash_before ?? undefined,
    hashAfter: row.hash_after ?? undefined,
    undecryptable: 'error' in opened ? opened.error : undefined,
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined) (entry as Record<string, unknown>)[key] = value;
  return entry;
}
