import { ConfigError, configSourceFile, type ConfigSpec } from '@toolbus/service-kit';
import type { StdioServers } from './stdio-servers.js';

/** A URL that carries a password (`postgres://user:pw@host/db`) is a secret whatever its flag. */
function hasPassword(value: string): boolean {
  try {
    return new URL(value).password !== '';
  } catch {
    return false;
  }
}

/**
 * The variables of `config` (as `loadConfig` returned it for `spec`) whose secret value came
 * from the process environment rather than from a `<NAME>_FILE`: those flagged `secret` (unless
 * left at their default) and any whose value is a URL with a password. Empty when
 * `MCP_STDIO_SERVERS` declares no entry.
 *
 * Why: a stdio MCP server runs as the same user as the process that starts it, and may read
 * `/proc/<ppid>/environ`, the environment that process was started with. Nothing the parent
 * does later removes a value from that file, and the clean environment it gives its children
 * does not cover it; only a value that never was in the environment is out of reach there.
 */
export function stdioSecretsInEnvironment(
  spec: ConfigSpec,
  config: { MCP_STDIO_SERVERS: StdioServers },
): string[] {
  if (Object.keys(config.MCP_STDIO_SERVERS).length === 0) return [];
  const values = config as unknown as Record<string, unknown>;
  return Object.entries(spec)
    .filter(([name, v]) => {
      const value = values[name];
      if (typeof value !== 'string' || value === '' || configSourceFile(config, name)) return false;
      return (v.secret === true && value !== v.default) || hasPassword(value);
    })
    .map(([name]) => name);
}

/**
 * Refuses to start a process that declares stdio MCP servers while a secret of it is in its
 * environment (see {@link stdioSecretsInEnvironment}): a ConfigError naming each variable and
 * the `_FILE` form to give instead.
 */
export function checkStdioSecrets(spec: ConfigSpec, config: { MCP_STDIO_SERVERS: StdioServers }) {
  const names = stdioSecretsInEnvironment(spec, config);
  if (names.length === 0) return;
  throw new ConfigError(
    names.map((variable) => ({
      variable,
      message: `is a secret given in the environment, which the stdio MCP servers of MCP_STDIO_SERVERS could read from /proc/<pid>/environ; give it as ${variable}_FILE (a mounted file) instead`,
    })),
  );
}
