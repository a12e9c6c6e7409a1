import type { Principal, ToolDefinition } from '@toolbus/contracts';
import { ALLOW, refuse, RefusalCodes, type PolicyStep, type TenantSettings } from '../policy.js';
import { missingScopes } from './scope.step.js';

/** `eu` covers `eu` and `eu-west-1`; `eu-west-1` covers only itself. */
function covers(allowed: string, region: string): boolean {
  return region === allowed || region.startsWith(`${allowed}-`);
}

/**
 * True when data may be processed in `region`: the tenant allows it (or names no regions) and
 * so does the principal (or names none).
 */
export function regionAllowed(
  region: string,
  principal: Pick<Principal, 'regions'>,
  settings: Pick<TenantSettings, 'allowedRegions'>,
): boolean {
  const lists = [settings.allowedRegions, principal.regions];
  return lists.every((list) => list === undefined || list.some((a) => covers(a, region)));
}

/**
 * True when the principal may use the tool at all: every scope held, its region allowed. What
 * the orchestrator offers a model, and which regional copy of a tool it routes to.
 */
export function toolPermitted(
  tool: ToolDefinition,
  principal: Principal,
  settings: TenantSettings,
): boolean {
  return (
    missingScopes(principal, tool).length === 0 && regionAllowed(tool.region, principal, settings)
  );
}

/** Residency: the tool processes data only in a region the tenant (and principal) allows. */
export function residencyStep(): PolicyStep {
  return {
    name: 'residency',
    async decide(call, context) {
      const { tool, principal } = call;
      if (regionAllowed(tool.region, principal, context.tenantSettings)) return ALLOW;
      const tenantRefuses = !regionAllowed(tool.region, {}, context.tenantSettings);
      const allowed =
        (tenantRefuses ? context.tenantSettings.allowedRegions : principal.regions) ?? [];
      const whose = tenantRefuses ? `tenant ${call.tenant}` : 'this caller';
      return refuse({
        step: 'residency',
        code: RefusalCodes.regionNotAllowed,
        errorClass: 'forbidden',
        retryable: false,
        message: `The tool ${tool.name} processes data in region ${tool.region}, which is not allowed for ${whose} (allowed: ${allowed.join(', ')}).`,
      });
    },
  };
}
