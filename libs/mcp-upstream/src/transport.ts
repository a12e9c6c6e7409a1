import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerTransport } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import {
  credentialOriginProblem,
  type CredentialOrigins,
  type SecretStore,
} from '@toolbus/security';
import { limitResponses } from './response-limit.js';
import { resolveStdioServer, stdioChildEnv, type StdioServers } from './stdio-servers.js';

export interface UpstreamTransportOptions {
  /** Reads the bearer token: key `token` of the upstream's credentials secret. */
  secrets: Pick<SecretStore, 'read'>;
  logger: Logger;
  /**
   * The stdio servers this process may start, by entry name (MCP_STDIO_SERVERS); empty
   * refuses every stdio upstream. Whoever starts one keeps its own list: a stdio upstream
   * comes from catalog data, and only its entry's name does.
   */
  stdioServers: StdioServers;
  /**
   * Every Streamable HTTP request goes through it: the guarded fetch of libs/egress
   * (`egressFetch(egressAgent({ allow: EGRESS_ALLOW }))`), which refuses internal addresses.
   */
  fetch: FetchLike;
  /** Which origins each credential may be sent to (CREDENTIAL_ORIGINS); unlisted: none. */
  credentialOrigins: CredentialOrigins;
  /** Largest HTTP response body accepted from the upstream; unbounded when unset. */
  maxResponseBytes?: number;
  /** Where PATH and HOME of a stdio child come from; default this process's environment. */
  parentEnv?: NodeJS.ProcessEnv;
}

/** The upstream's credential may not be sent to its URL (CREDENTIAL_ORIGINS); nothing was sent. */
export class CredentialOriginError extends Error {
  override readonly name = 'CredentialOriginError';
}

/**
 * The SDK transport for an upstream MCP server. Over Streamable HTTP the only header added is
 * the bearer token read from the referenced secret at each call (so a rotated secret is used
 * from the next connection on), and only when CREDENTIAL_ORIGINS lets that secret go to the
 * server's origin: nothing of a caller ever goes upstream. Requests go through the guarded
 * `fetch`, with bodies bounded by `maxResponseBytes`. A stdio upstream runs only a declared
 * entry's command line, with {@link stdioChildEnv}. Returns the credential values sent, so
 * texts shown to a model can be scrubbed of them.
 */
export async function createUpstreamTransport(
  server: string,
  spec: McpServerTransport,
  credentialsSecret: string | undefined,
  options: UpstreamTransportOptions,
): Promise<{ transport: Transport; sentSecrets: string[] }> {
  if (spec.kind === 'streamable_http') {
    const headers: Record<string, string> = {};
    const sentSecrets: string[] = [];
    if (credentialsSecret) {
      const problem = credentialOriginProblem(
        options.credentialOrigins,
        credentialsSecret,
        spec.url,
      );
      if (problem)
        throw new CredentialOriginError(
          `upstream MCP server "${server}": ${problem}; the credential was not sent`,
        );
      const token = await options.secrets.read(credentialsSecret, 'token');
      headers['Authorization'] = `Bearer ${token}`;
      sentSecrets.push(token);
    }
    const fetch =
      options.maxResponseBytes === undefined
        ? options.fetch
        : limitResponses(options.fetch, server, options.maxResponseBytes);
    return {
      transport: new StreamableHTTPClientTransport(new URL(spec.url), {
        requestInit: { headers },
        fetch,
      }),
      sentSecrets,
    };
  }
  const { name, entry } = resolveStdioServer(server, spec, options.stdioServers);
  if (credentialsSecret)
    options.logger.warn(
      { secretName: credentialsSecret },
      'credentialsSecret is ignored for a stdio upstream: there is no HTTP request to carry it',
    );
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    ...(entry.cwd ? { cwd: entry.cwd } : {}),
    env: stdioChildEnv(options.parentEnv),
    stderr: 'pipe',
  });
  // Drained so a chatty child never blocks on a full pipe; kept in the logs for diagnosis.
  transport.stderr?.on('data', (chunk: Buffer) => {
    options.logger.info(
      { stdioEntry: name, stderr: chunk.toString('utf8').slice(0, 2000) },
      'stdio upstream stderr',
    );
  });
  return { transport, sentSecrets: [] };
}
