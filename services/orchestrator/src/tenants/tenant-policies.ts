import { z } from 'zod';
import { Region } from '@toolbus/contracts';

/** What a tenant may do: where its data may go, and how much it may spend. */
export const TenantPolicy = z
  .object({
    allowedRegions: z.array(Region).min(1).optional().describe('Absent: any region'),
    askTokenCap: z.number().int().positive().optional().describe('Tokens one ask may use'),
    monthlyTokens: z.number().int().positive().optional().describe('Tokens per calendar month'),
    monthlyUsd: z.number().positive().optional().describe('USD per calendar month'),
  })
  .strict();
export type TenantPolicy = z.infer<typeof TenantPolicy>;

/** `TENANT_POLICIES`: policies by tenant id, `*` for every tenant not named. */
export const TenantPolicies = z.record(z.string().min(1), TenantPolicy);
export type TenantPolicies = z.infer<typeof TenantPolicies>;

/** A tenant's policy: its own entry over the `*` entry, field by field. */
export function tenantPolicy(policies: TenantPolicies, tenant: string): TenantPolicy {
  return { ...(policies['*'] ?? {}), ...(policies[tenant] ?? {}) };
}
