import { TenantSettings } from '@toolbus/policy';
import { z } from 'zod';

/** `TENANT_POLICIES`: settings by tenant id, `*` for every tenant not named. */
export const TenantPolicies = z.record(z.string().min(1), TenantSettings);
export type TenantPolicies = z.infer<typeof TenantPolicies>;

/** A tenant's settings: its own entry over the `*` entry, field by field. */
export function tenantSettings(policies: TenantPolicies, tenant: string): TenantSettings {
  return { ...(policies['*'] ?? {}), ...(policies[tenant] ?? {}) };
}
