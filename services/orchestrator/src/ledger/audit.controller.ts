import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import {
  AuditChainQuery,
  AuditPaths,
  AuditQuery,
  AuditScopes,
  type AuditChainPage,
  type AuditPage,
  type Principal,
} from '@toolbus/contracts';
import { AuthGuard, CurrentPrincipal, RequireScopes } from '@toolbus/security';
import { invalidInput, ProblemError } from '@toolbus/service-kit';
import { AuditLedger, tenantAccess } from './audit-ledger.js';

/**
 * The ledger's read API, for compliance and `toolbus audit`: rows with their sealed fields
 * opened (`audit:read`: the caller's own tenant, as its verified token says; `audit:read_all`:
 * any), and the stored chain for verification (`audit:read_all`: it spans tenants).
 */
@Controller()
@UseGuards(AuthGuard)
export class AuditController {
  constructor(@Inject(AuditLedger) private readonly ledger: AuditLedger) {}

  @Get(AuditPaths.list)
  async list(@Query() raw: unknown, @CurrentPrincipal() caller: Principal): Promise<AuditPage> {
    const access = tenantAccess(caller, tenantOf(raw));
    if ('refusal' in access) throw new ProblemError(403, 'forbidden', access.refusal);
    const query = AuditQuery.safeParse(raw ?? {});
    if (!query.success) throw invalidInput('invalid audit query', query.error);
    return this.ledger.list(query.data, access.tenant);
  }

  @Get(AuditPaths.chain)
  @RequireScopes(AuditScopes.readAll)
  async chain(@Query() raw: unknown): Promise<AuditChainPage> {
    const query = AuditChainQuery.safeParse(raw ?? {});
    if (!query.success) throw invalidInput('invalid chain query', query.error);
    return this.ledger.chain(query.data);
  }
}

/** The tenant a query names, before validation: access is decided on it first. */
function tenantOf(raw: unknown): string | undefined {
  const tenant = (raw as { tenant?: unknown } | null)?.tenant;
  return typeof tenant === 'string'
    ? tenant
    : Array.isArray(tenant)
      ? String(tenant[0])
      : undefined;
}
