import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { McpTestToolAnnotations } from './tools.js';

/**
 * Absolute path of the stdio MCP test server (`node <path> <tools.json>`). It is plain
 * JavaScript kept in `src/` and resolved from there whether this module runs from `src/` or
 * from `dist/` (both sit two levels below the package).
 */
export const stdioMcpServerPath: string = join(
  import.meta.dirname,
  '..',
  '..',
  'src',
  'mcp',
  'stdio-server.mjs',
);

/** What a stdio test tool does when called (see stdio-server.mjs). */
export type McpStdioBehaviour =
  | { kind: 'echo' }
  | { kind: 'text'; text: string }
  | { kind: 'result'; result: CallToolResult }
  | { kind: 'error'; message: string }
  | { kind: 'exit'; code?: number }
  | { kind: 'process' }
  | { kind: 'parent-environ' };

/** A tool of the stdio test server, as written to its JSON file. */
export interface McpStdioTool {
  name: string;
  title?: string;
  /** `${env}` in it is served as the names of the server's environment variables. */
  description?: string;
  inputSchema?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: McpTestToolAnnotations;
  /** Default echo. */
  behaviour?: McpStdioBehaviour;
}

/** A tools file for the stdio test server, and the command line that serves it. */
export interface McpStdioFixture {
  /** The JSON file the server reads (and polls for changes). */
  file: string;
  /** `process.execPath`: the node running the tests. */
  command: string;
  /** `[stdioMcpServerPath, file]`. */
  args: string[];
  /** Rewrites the file atomically; every running server re-reads it and sends list_changed. */
  setTools(tools: McpStdioTool[]): Promise<void>;
  /**
   * Makes every running server of this file exit with `code` (default 3), as a crash would.
   * Servers started afterwards ignore it and serve the same tools.
   */
  crashServers(code?: number): Promise<void>;
  /** Removes the file and its folder. */
  cleanup(): Promise<void>;
}

/**
 * Tools of every shape for the stdio server: `echo` (read-only), `add` (output schema and
 * structuredContent), `fail` (isError), `crash` (exits the process), `whoami` (pid, env names).
 */
export function exampleStdioTools(): McpStdioTool[] {
  return [
    {
      name: 'echo',
      description: 'Returns its arguments as JSON text.',
      inputSchema: {
        type: 'object',
        properties: { text: { type: 'string', description: 'Any text' } },
        required: ['text'],
      },
      annotations: { readOnlyHint: true },
    },
    {
      name: 'add',
      title: 'Add two numbers',
      description: 'Adds a and b.',
      inputSchema: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
      outputSchema: {
        type: 'object',
        properties: { sum: { type: 'number' } },
        required: ['sum'],
      },
      behaviour: {
        kind: 'result',
        result: { content: [{ type: 'text', text: '{"sum":5}' }], structuredContent: { sum: 5 } },
      },
    },
    {
      name: 'fail',
      description: 'Reports a domain failure as a tool error.',
      behaviour: { kind: 'error', message: 'the order is already shipped' },
    },
    {
      name: 'crash',
      description: 'Exits the server process without answering.',
      behaviour: { kind: 'exit', code: 3 },
    },
    {
      name: 'whoami',
      description: 'Returns the server process id and the names of its environment variables.',
      outputSchema: {
        type: 'object',
        properties: {
          pid: { type: 'integer' },
          env: { type: 'array', items: { type: 'string' } },
          cwd: { type: 'string' },
        },
        required: ['pid', 'env', 'cwd'],
      },
      annotations: { readOnlyHint: true },
      behaviour: { kind: 'process' },
    },
  ];
}

/**
 * A tool that reads `/proc/<ppid>/environ`, the environment the server's parent (the process
 * that started it: the bridge, the registry) was started with, and returns its entries: what a
 * stdio server could learn of the secrets in its parent's environment.
 */
export function parentEnvironTool(): McpStdioTool {
  return {
    name: 'parent_environ',
    description: "Returns the entries of /proc/<ppid>/environ: the parent's start-up environment.",
    outputSchema: {
      type: 'object',
      properties: {
        ppid: { type: 'integer' },
        environ: { type: 'array', items: { type: 'string' } },
        error: { type: 'string' },
      },
      required: ['ppid', 'environ'],
    },
    annotations: { readOnlyHint: true },
    behaviour: { kind: 'parent-environ' },
  };
}

/** Writes `tools` to a fresh temporary file for the stdio test server. */
export async function createMcpStdioFixture(
  tools: McpStdioTool[] = exampleStdioTools(),
): Promise<McpStdioFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'toolbus-mcp-stdio-'));
  const file = join(dir, 'tools.json');
  let writes = 0;
  let current = tools;
  const write = async (next: McpStdioTool[], exit?: number) => {
    current = next;
    // Write then rename: the polling server never reads a half-written file.
    const temp = join(dir, `tools.json.${++writes}.tmp`);
    await writeFile(temp, JSON.stringify({ tools: next, ...(exit === undefined ? {} : { exit }) }));
    await rename(temp, file);
  };
  await write(tools);
  return {
    file,
    command: process.execPath,
    args: [stdioMcpServerPath, file],
    setTools: (next) => write(next),
    crashServers: (code = 3) => write(current, code),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
