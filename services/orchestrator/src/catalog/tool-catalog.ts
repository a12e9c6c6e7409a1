import type { Principal, ToolDefinition } from '@toolbus/contracts';
import { missingScopes, RefusalCodes, regionAllowed, type TenantSettings } from '@toolbus/policy';

/** What the orchestrator reads of the registry's catalog (a `RegistryView`). */
export interface CatalogSource {
  /** Every served version of every tool, newest first per tool. */
  servedVersions(): ToolDefinition[];
}

/**
 * Why a named tool cannot be used by this caller, in words a model and a user can act on. The
 * scope and residency codes are the policy steps' own: a caller sees one code for one reason,
 * whichever check found it first.
 */
export interface CatalogRefusal {
  code:
    | 'unknown_tool'
    | typeof RefusalCodes.insufficientScope
    | typeof RefusalCodes.regionNotAllowed
    | 'version_not_served';
  message: string;
}

/**
 * The tools a caller may use: served (approved, or deprecated and still resolvable), every
 * scope covered by the caller's, in a region both the caller and the tenant allow. Where the
 * registry serves a tool in several regions (versions with different regions), a call is
 * routed to the newest version in an allowed region.
 */
export class ToolCatalog {
  constructor(private readonly source: CatalogSource) {}

  /** The one version of each tool the caller may use, approved before deprecated. */
  usable(principal: Principal, tenant: TenantSettings): ToolDefinition[] {
    const chosen = new Map<string, ToolDefinition>();
    for (const tool of this.ordered()) {
      if (chosen.has(tool.name)) continue;
      if (
        missingScopes(principal, tool).length === 0 &&
        regionAllowed(tool.region, principal, tenant)
      )
        chosen.set(tool.name, tool);
    }
    return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The version a call of `name` runs on for this caller, or why there is none. */
  resolve(
    name: string,
    principal: Principal,
    tenant: TenantSettings,
    version?: string,
  ): { tool: ToolDefinition } | { refusal: CatalogRefusal } {
    const versions = this.ordered().filter((t) => t.name === name);
    if (versions.length === 0)
      return { refusal: { code: 'unknown_tool', message: `there is no tool "${name}"` } };
    const candidates = version ? versions.filter((t) => t.version === version) : versions;
    if (candidates.length === 0)
      return {
        refusal: {
          code: 'version_not_served',
          message: `${name}@${version} is not served (retired, or never approved); served: ${versions.map((t) => t.version).join(', ')}`,
        },
      };
    const inRegion = candidates.filter((t) => regionAllowed(t.region, principal, tenant));
    if (inRegion.length === 0) {
      const allowed = allowedRegions(principal, tenant);
      return {
        refusal: {
          code: RefusalCodes.regionNotAllowed,
          message: `${name} processes data in ${[...new Set(candidates.map((t) => t.region))].join(', ')}, outside the regions this caller may use (${allowed ? allowed.join(', ') : 'none'})`,
        },
      };
    }
    const tool = inRegion[0]!;
    const missing = missingScopes(principal, tool);
    if (missing.length > 0) {
      return {
        refusal: {
          code: RefusalCodes.insufficientScope,
          message: `${name} needs the scope ${missing.join(', ')}, which this caller does not hold`,
        },
      };
    }
    return { tool };
  }

  /** Approved versions before deprecated ones, newest first within each. */
  private ordered(): ToolDefinition[] {
    const rank = (t: ToolDefinition) => (t.status === 'approved' ? 0 : 1);
    return this.source
      .servedVersions()
      .filter((t) => t.status === 'approved' || t.status === 'deprecated')
      .sort((a, b) => rank(a) - rank(b) || compareVersions(b.version, a.version));
  }
}

/** The regions both the caller and the tenant name; undefined when neither restricts. */
export function allowedRegions(principal: Principal, tenant: TenantSettings): string[] | undefined {
  const mine = principal.regions;
  const theirs = tenant.allowedRegions;
  if (!mine) return theirs;
  if (!theirs) return mine;
  return mine.filter((r) => theirs.includes(r));
}

/** Semantic versions in order; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split('-', 2);
    return { parts: core!.split('.').map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre.localeCompare(y.pre);
}
