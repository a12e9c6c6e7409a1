import {
  RegistryScopes,
  type Principal,
  type RegisterToolRequest,
  type ToolSource,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import { hasScope, hasScopes, isTeamMember, type CredentialOrigins } from '@toolbus/security';
import { ProblemError } from '@toolbus/service-kit';
import { credentialIssue } from './credential-check.js';
import { Refusal } from './refusal.js';

/** May see drafts and retired versions (reviewers and authors). */
export function isReviewer(principal: Principal): boolean {
  return [RegistryScopes.write, RegistryScopes.approve, RegistryScopes.admin].some((s) =>
    hasScope(principal, s),
  );
}

/**
 * Sees every served tool, whatever its scopes: reviewers, and services holding the
 * registry:catalog scope (the executors, which must know every tool they may be asked to run).
 */
export function seesWholeCatalog(principal: Principal): boolean {
  return isReviewer(principal) || hasScope(principal, RegistryScopes.catalog);
}

/**
 * Callers see only tools whose scopes they hold, in their regions; reviewers and catalog
 * readers see every tool (reviewers must be able to review tools they could not call).
 */
export function visible(
  caller: Principal,
  record: Pick<ToolVersionRecord, 'scopes' | 'region'>,
): boolean {
  if (seesWholeCatalog(caller)) return true;
  if (!hasScopes(caller, record.scopes)) return false;
  return !caller.regions || caller.regions.includes(record.region);
}

/** The caller's teams for a message: "team-a, team-b", or a note that the token names none. */
export function teamsOf(principal: Principal): string {
  return principal.teams?.length
    ? principal.teams.join(', ')
    : 'none (the token carries no teams claim)';
}

/**
 * What a registration must satisfy before anything is written: MCP bindings come only from
 * registered upstreams (registering one needs registry:admin, which the tools API would
 * otherwise bypass); a secret goes only to the origins CREDENTIAL_ORIGINS allows it; and the
 * owner is one of the caller's teams (with the name already owned by that team, checked when
 * the name is claimed, only members of a tool's team publish its versions).
 */
export function checkRegistration(
  actor: Principal,
  definition: RegisterToolRequest,
  source: ToolSource,
  origins: CredentialOrigins,
): void {
  const resource = { kind: 'tool_version', id: `${definition.name}@${definition.version}` };
  const audit = { actor, action: 'registry.create_version', resource, region: definition.region };
  if (source.kind === 'api' && definition.binding?.kind === 'mcp')
    throw new Refusal(
      403,
      'mcp_binding_not_allowed',
      'an MCP binding comes only from a registered upstream server (POST /v1/upstreams/mcp, registry:admin); a tool definition cannot name one',
      audit,
      {
        issues: [
          { pointer: '/binding', message: 'MCP bindings come only from registered upstreams' },
        ],
      },
    );
  const credential = credentialIssue(origins, definition.binding);
  if (credential)
    throw new ProblemError(
      422,
      'credential_origin',
      `the tool definition is invalid: ${credential.pointer} ${credential.message}`,
      {
        issues: [credential],
      },
    );
  if (!isTeamMember(actor, definition.owner))
    throw new Refusal(
      403,
      'not_team_member',
      `only members of team "${definition.owner}" publish versions of its tools; ${actor.subject}'s teams: ${teamsOf(actor)}`,
      audit,
      { issues: [{ pointer: '/owner', message: 'is not one of your teams' }] },
    );
}
