import { z } from 'zod';
import { ChainHead, ChainRow } from './audit-chain.js';
import { AuditEvent } from './audit.js';
import { JsonObject, Principal, TenantId, Timestamp, ToolName } from './common.js';

// The audit ledger's HTTP bodies, beside the chain they expose: the orchestrator serves them and
// the CLI reads them.

/** Paths of the audit ledger's read API (served by the orchestrator). */
export const AuditPaths = {
  /** GET: rows with their sealed fields opened, newest first, filtered. */
  list: '/v1/audit',
  /** GET: the stored rows in sequence order, for verifying the chain without keys. */
  chain: '/v1/audit/chain',
} as const;

/** Scopes of the audit API. */
export const AuditScopes = {
  /** The caller's own tenant's rows. */
  read: 'audit:read',
  /** Every tenant's rows, and the chain (which spans tenants). */
  readAll: 'audit:read_all',
} as const;

/** What a policy decided about the audited action; `held` waits for a later step (approval). */
export const AuditDecision = z.enum(['allowed', 'refused', 'held']);
export type AuditDecision = z.infer<typeof AuditDecision>;

const Sequence = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a row sequence number (digits)')
  .transform(Number);

/** Query of `GET /v1/audit`; every filter narrows (they all must match). */
export const AuditQuery = z
  .object({
    tenant: TenantId.optional().describe(
      "Only this tenant's rows; with audit:read only the caller's own tenant may be named",
    ),
    principal: z.string().min(1).max(256).optional().describe('Only rows of this subject'),
    tool: ToolName.optional().describe('Only calls of this tool (any version)'),
    action: z
      .string()
      .regex(/^[a-z]+(\.[a-z_]+)+$/, 'must look like area.verb, e.g. tool.call')
      .optional()
      .describe('Only this action (tool.call, ask.answer, model.call, tool.approve, ...)'),
    decision: AuditDecision.optional(),
    since: Timestamp.optional().describe('Only rows of actions at or after this time'),
    until: Timestamp.optional().describe('Only rows of actions before this time'),
    cursor: Sequence.optional().describe('`nextCursor` of the previous page'),
    limit: z.coerce
      .number()
      .int('must be a whole number')
      .min(1)
      .max(1000)
      .optional()
      .describe('Rows per page (the ledger caps it)'),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

/** Query of `GET /v1/audit/chain`. */
export const AuditChainQuery = z
  .object({
    after: Sequence.optional().describe('Rows after this sequence; 0 or absent: from the start'),
    limit: z.coerce.number().int('must be a whole number').min(1).max(5000).optional(),
  })
  .strict();
export type AuditChainQuery = z.infer<typeof AuditChainQuery>;

/** One ledger row as `GET /v1/audit` answers it: plaintext and opened fields. */
export const AuditEntry = z
  .object({
    sequence: z.number().int().positive(),
    eventId: z.uuid(),
    at: Timestamp.describe('When the action happened, as its producer says'),
    recordedAt: Timestamp.describe('When the ledger stored it'),
    source: z.string().describe("The producing service (the event's CloudEvents source)"),
    actor: Principal.pick({ subject: true, kind: true, displayName: true }),
    tenant: z.string(),
    action: z.string(),
    resource: z.object({ kind: z.string(), id: z.string() }),
    tool: z.string().optional().describe('The tool, for tool calls'),
    outcome: AuditEvent.shape.outcome,
    decision: AuditDecision,
    region: z.string().optional(),
    contextId: z.string().optional(),
    traceId: z.string().optional(),
    reason: z.string().optional(),
    argumentsHash: z
      .string()
      .optional()
      .describe('SHA-256 of the canonical JSON of the tool arguments'),
    arguments: z
      .unknown()
      .optional()
      .describe('The arguments themselves, only where the ledger is configured to keep them'),
    details: JsonObject.optional(),
    latencyMs: z.number().optional(),
    tokens: z.object({ input: z.number().int(), output: z.number().int() }).optional(),
    costUsd: z.number().optional(),
    hashBefore: z.string().optional(),
    hashAfter: z.string().optional(),
    keyId: z.string().describe('The key its sealed fields are encrypted with'),
    undecryptable: z
      .string()
      .optional()
      .describe(
        'Why the sealed fields (name, reason, details, arguments) could not be opened; they are absent then',
      ),
  })
  .describe('An audit ledger row');
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Body of `GET /v1/audit`. */
export const AuditPage = z.object({
  items: z.array(AuditEntry),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page'),
});
export type AuditPage = z.infer<typeof AuditPage>;

/** Body of `GET /v1/audit/chain`. */
export const AuditChainPage = z.object({
  head: ChainHead.describe('The chain head when this page was read'),
  items: z.array(ChainRow),
  nextAfter: z
    .number()
    .int()
    .nullable()
    .describe('Pass as `after` for the next page; null once the head is reached'),
});
export type AuditChainPage = z.infer<typeof AuditChainPage>;
