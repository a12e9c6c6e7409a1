import type { FieldIssue, ToolBinding } from '@toolbus/contracts';
import { credentialOriginProblem, type CredentialOrigins } from '@toolbus/security';

/**
 * Why `secret` may not be sent to `url` (CREDENTIAL_ORIGINS does not let it go to that origin),
 * located at `pointer`; undefined when it may, or when there is no secret or no URL. Without
 * this a registry writer could pair another team's credential with a host of their own and
 * have an executor (or the registry itself) deliver it.
 */
export function secretIssue(
  origins: CredentialOrigins,
  secret: string | undefined,
  url: string | undefined,
  pointer: string,
): FieldIssue | undefined {
  if (!secret || url === undefined) return undefined;
  const problem = credentialOriginProblem(origins, secret, url);
  return problem ? { pointer, message: problem } : undefined;
}

/** {@link secretIssue} for a tool's binding: its API's base URL, or its MCP server's URL. */
export function credentialIssue(
  origins: CredentialOrigins,
  binding: ToolBinding | undefined,
  pointer = '/binding/credentialsSecret',
): FieldIssue | undefined {
  if (!binding) return undefined;
  const url =
    binding.kind === 'http'
      ? binding.baseUrl
      : binding.transport.kind === 'streamable_http'
        ? binding.transport.url
        : undefined; // a stdio server runs beside the bridge: the secret goes to no host
  return secretIssue(origins, binding.credentialsSecret, url, pointer);
}
