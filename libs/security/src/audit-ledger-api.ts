import { AuditEvent, JsonObject, Principal, Timestamp } from '@toolbus/contracts';
import { z } from 'zod';
import { ChainHead, ChainRow } from './audit-chain.js';

// The audit ledger's HTTP bodies, beside the chain they expose: the orchestrator serves them and
// the CLI reads them. (They belong in libs/contracts with the other bodies; kept here while
// that library is being changed elsewhere.)

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

/** One ledger row as `GET /v1/audit` answers it: plaintext and opened fields. */
export const AuditEntry = z
  .object({
    sequence: z.number().int().positive(),
    eventId: z.uuid(),
    at: Timestamp,
    recordedAt: Timestamp,
    actor: Principal.pick({ subject: true, kind: true, displayName: true }),
    tenant: z.string(),
    action: z.string(),
    resource: z.object({ kind: z.string(), id: z.string() }),
    outcome: AuditEvent.shape.outcome,
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
      .describe('Why the sealed fields (name, reason, details) could not be opened'),
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
