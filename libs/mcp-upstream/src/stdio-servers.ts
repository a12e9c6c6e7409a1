import { isAbsolute } from 'node:path';
import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StdioEntryName, type McpServerTransport } from '@toolbus/contracts';
import { env, type ConfigOf } from '@toolbus/service-kit';
import { z } from 'zod';

const AbsolutePath = z
  .string()
  .min(1)
  .max(1024)
  .refine(isAbsolute, 'must be an absolute path (no PATH lookup decides what runs)');

/** One stdio MCP server a process may start: a whole command line, fixed by the operator. */
export const StdioServerEntry = z.strictObject({
  command: AbsolutePath,
  args: z.array(z.string().max(4096)).max(64).default([]),
  cwd: AbsolutePath.optional(),
});
export type StdioServerEntry = z.infer<typeof StdioServerEntry>;

/**
 * Config of every process that starts stdio MCP servers (the registry, to list their tools;
 * the mcp-bridge, to call them): the named entries it agrees to run. An upstream registration
 * names an entry; the program and its arguments never come from catalog data.
 */
export const stdioServersConfig = {
  MCP_STDIO_SERVERS: {
    schema: env.json(
      z.record(z.string(), StdioServerEntry).superRefine((servers, ctx) => {
        for (const name of Object.keys(servers)) {
          const problem = StdioEntryName.safeParse(name).error?.issues[0]?.message;
          if (problem) ctx.addIssue({ code: 'custom', message: `entry name "${name}" ${problem}` });
        }
      }),
    ),
    default: '{}',
    description:
      'Stdio MCP servers this process may start, by entry name, as JSON: {"everything":{"command":"/usr/bin/node","args":["/opt/mcp/everything.js"]}} (command and cwd absolute); an upstream names an entry; {} refuses every stdio upstream',
  },
};

export type StdioServersConfig = ConfigOf<typeof stdioServersConfig>;
/** The entries of MCP_STDIO_SERVERS, by name. */
export type StdioServers = StdioServersConfig['MCP_STDIO_SERVERS'];

/** A stdio upstream that names no configured entry; says which server and which entry. */
export class StdioServerNotAllowedError extends Error {
  override readonly name = 'StdioServerNotAllowedError';
}

type StdioTransport = Extract<McpServerTransport, { kind: 'stdio' }>;

const sameArgs = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((arg, i) => arg === b[i]);

/**
 * The entry a stdio transport runs, with its name. `{ entry }` must be declared; the older
 * command form runs only when it is exactly the command line (command, arguments and working
 * directory) of a declared entry, so a catalog written before entries keeps working once the
 * operator declares what it runs, and nothing else does.
 */
export function resolveStdioServer(
  server: string,
  spec: StdioTransport,
  servers: StdioServers,
): { name: string; entry: StdioServerEntry } {
  if ('entry' in spec) {
    const entry = servers[spec.entry];
    if (!entry)
      throw new StdioServerNotAllowedError(
        `upstream MCP server "${server}" names the stdio entry "${spec.entry}", which MCP_STDIO_SERVERS of this service does not declare`,
      );
    return { name: spec.entry, entry };
  }
  const match = Object.entries(servers).find(
    ([, e]) => e.command === spec.command && sameArgs(e.args, spec.args) && e.cwd === spec.cwd,
  );
  if (!match)
    throw new StdioServerNotAllowedError(
      `upstream MCP server "${server}" gives a stdio command line ("${spec.command}" with ${spec.args.length} arguments) that is no entry of MCP_STDIO_SERVERS; declare the entry and register the server by its name ({"kind":"stdio","entry":"<name>"})`,
    );
  return { name: match[0], entry: match[1] };
}

/**
 * The environment of a stdio upstream: PATH (to find its interpreter) and HOME (caches and
 * config), nothing else. The parent's environment holds its own secrets (a database URL with
 * its password, tokens, Kafka credentials); an upstream server is someone else's code and must
 * not see them. The SDK merges a default set (HOME, LOGNAME, PATH, SHELL, TERM, USER) under what
 * it is given; those keys are set to undefined here, which Node's spawn leaves out.
 */
export function stdioChildEnv(parentEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const childEnv: Record<string, string | undefined> = {};
  for (const key of DEFAULT_INHERITED_ENV_VARS) childEnv[key] = undefined;
  childEnv['PATH'] = parentEnv['PATH'];
  childEnv['HOME'] = parentEnv['HOME'];
  // The SDK's type says string values; undefined is what removes its defaults (see above).
  return childEnv as Record<string, string>;
}
