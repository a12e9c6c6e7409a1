import {
  DEFAULT_INHERITED_ENV_VARS,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerTransport } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { SecretStore } from '@toolbus/security';

export interface UpstreamTransportOptions {
  /** Reads the bearer token: key `token` of the upstream's credentials secret. */
  secrets: Pick<SecretStore, 'read'>;
  logger: Logger;
  /**
   * Commands a stdio upstream may run (exact match); empty refuses every stdio upstream. A
   * stdio command comes from catalog data, so whoever runs it keeps its own allow-list.
   */
  stdioCommands: readonly string[];
  /** Where PATH and HOME of a stdio child come from; default this process's environment. */
  parentEnv?: NodeJS.ProcessEnv;
}

/** A stdio upstream whose command is not in the allow-list. */
export class StdioCommandNotAllowedError extends Error {
  override readonly name = 'StdioCommandNotAllowedError';
}

/**
 * The environment of a stdio upstream: PATH (to find its interpreter) and HOME (caches and
 * config), nothing else. The parent's environment holds its own secrets (a database URL with
 * its password, tokens, Kafka credentials); an upstream server is someone else's code and must
 * not see them. The SDK merges a default set (HOME, LOGNAME, PATH, SHELL, TERM, USER) under what
 * it is given; those keys are set to undefined here, which Node's spawn leaves out.
 */
export function stdioChildEnv(parentEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string | undefined> = {};
  for (const key of DEFAULT_INHERITED_ENV_VARS) env[key] = undefined;
  env['PATH'] = parentEnv['PATH'];
  env['HOME'] = parentEnv['HOME'];
  // The SDK's type says string values; undefined is what removes its defaults (see above).
  return env as Record<string, string>;
}

/**
 * The SDK transport for an upstream MCP server. Over Streamable HTTP the only header added is
 * the bearer token read from the referenced secret at each call (so a rotated secret is used
 * from the next connection on): nothing of a caller ever goes upstream. A stdio upstream runs
 * only an allow-listed command, with {@link stdioChildEnv}. Returns the credential values sent,
 * so error texts can be scrubbed of them.
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
      const token = await options.secrets.read(credentialsSecret, 'token');
      headers['Authorization'] = `Bearer ${token}`;
      sentSecrets.push(token);
    }
    return {
      transport: new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers } }),
      sentSecrets,
    };
  }
  if (!options.stdioCommands.includes(spec.command))
    throw new StdioCommandNotAllowedError(
      `upstream MCP server "${server}" would run "${spec.command}", which is not an allowed stdio command (MCP_STDIO_COMMANDS)`,
    );
  if (credentialsSecret)
    options.logger.warn(
      { secretName: credentialsSecret },
      'credentialsSecret is ignored for a stdio upstream: there is no HTTP request to carry it',
    );
  const transport = new StdioClientTransport({
    command: spec.command,
    args: spec.args,
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
    env: stdioChildEnv(options.parentEnv),
    stderr: 'pipe',
  });
  // Drained so a chatty child never blocks on a full pipe; kept in the logs for diagnosis.
  transport.stderr?.on('data', (chunk: Buffer) => {
    options.logger.info({ stderr: chunk.toString('utf8').slice(0, 2000) }, 'stdio upstream stderr');
  });
  return { transport, sentSecrets: [] };
}
