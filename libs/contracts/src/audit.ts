import { z } from 'zod';
import { ContextId, JsonObject, Principal, Region, TenantId, Timestamp } from './common.js';

export const AuditEvent = z
  .object({
    id: z.uuid(),
    at: Timestamp,
    actor: Principal,
    action: z
      .string()
      .regex(/^[a-z]+(\.[a-z_]+)+$/, 'must look like area.verb, e.g. tool.call')
      .describe('What was done'),
    resource: z.object({ kind: z.string().min(1).max(64), id: z.string().min(1).max(256) }),
    outcome: z.enum(['allowed', 'denied', 'succeeded', 'failed']),
    tenant: TenantId,
    region: Region.optional(),
    contextId: ContextId.optional(),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional(),
    reason: z.string().max(2000).optional(),
    hashBefore: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('SHA-256 of the resource before'),
    hashAfter: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('SHA-256 of the resource after'),
    details: JsonObject.default({}),
  })
  .describe('Who did what to which resource, with what outcome');
export type AuditEvent = z.infer<typeof AuditEvent>;
