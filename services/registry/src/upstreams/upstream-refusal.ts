import type { McpUpstreamRequest, Principal } from '@toolbus/contracts';
import { egressRefusalOf } from '@toolbus/egress';
import { CredentialOriginError, StdioServerNotAllowedError } from '@toolbus/mcp-upstream';
import { ProblemError } from '@toolbus/service-kit';
import { Refusal } from '../catalog/refusal.js';

/** Who asked the registry to reach the upstream, for the audit of a refusal. */
export interface ReachAttempt {
  actor: Principal;
  action: string;
}

/**
 * The registry's own configuration forbids reaching the upstream this way: a stdio entry it
 * does not declare, a secret that may not go to the URL's origin, a URL at an internal address.
 * A {@link Refusal} (audited as denied: a registry admin pointing the registry at the metadata
 * endpoint is worth a record), answered 422 with the field to fix.
 */
export function reachRefusal(
  upstream: Pick<McpUpstreamRequest, 'name'>,
  attempt: ReachAttempt,
  code: 'stdio_entry_not_allowed' | 'credential_origin' | 'egress_refused',
  pointer: string,
  message: string,
): Refusal {
  return new Refusal(
    422,
    code,
    message.slice(0, 2000),
    { ...attempt, resource: { kind: 'mcp_source', id: upstream.name } },
    { issues: [{ pointer, message: message.slice(0, 500) }] },
  );
}

/**
 * Why listing the upstream's tools failed: one of the refusals of {@link reachRefusal}, named
 * as such, or else an unreachable server.
 */
export function unreachable(
  upstream: McpUpstreamRequest,
  error: unknown,
  attempt: ReachAttempt,
): ProblemError {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof StdioServerNotAllowedError)
    return reachRefusal(upstream, attempt, 'stdio_entry_not_allowed', '/transport', detail);
  if (error instanceof CredentialOriginError)
    return reachRefusal(upstream, attempt, 'credential_origin', '/credentialsSecret', detail);
  const egress = egressRefusalOf(error);
  if (egress)
    return reachRefusal(
      upstream,
      attempt,
      'egress_refused',
      '/transport/url',
      `could not list the tools of MCP server "${upstream.name}": ${egress.message}`,
    );
  return new ProblemError(
    422,
    'upstream_unreachable',
    `could not list the tools of MCP server "${upstream.name}": ${detail}`.slice(0, 2000),
    {
      issues: [{ pointer: '/transport', message: `could not list tools: ${detail}`.slice(0, 500) }],
    },
  );
}
