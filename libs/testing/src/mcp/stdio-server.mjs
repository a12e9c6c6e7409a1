#!/usr/bin/env node
// A real MCP server over stdio (the official SDK's McpServer and StdioServerTransport), for
// tests. Plain JavaScript so `node <this file> <tools.json>` runs without a build.
//
// Its tools come from a JSON file: `{ "tools": [ { name, title?, description?, inputSchema?,
// outputSchema?, annotations?, behaviour? } ] }` (a bare array works too). The path is the first
// argument, or MCP_TEST_TOOLS_FILE when there is none; prefer the argument, since a careful client
// starts stdio servers with a minimal environment. The file is polled (fs.watchFile: reliable on
// every file system, unlike fs.watch) and, when it changes, re-read and announced with
// notifications/tools/list_changed. A file that does not parse keeps the previous tools.
// `${env}` in a description is replaced by the sorted, comma-separated names of the server's
// environment variables, so a client that only lists tools can still see what it passed.
// A change that adds `"exit": <code>` to the file makes every running server exit with that code
// (a crash a client can only notice by its connection ending); at start-up it is ignored.
//
// Behaviours: {"kind":"echo"} (default: the arguments as JSON text, and as structuredContent
// when the tool has an output schema); {"kind":"text","text":"..."}; {"kind":"result","result":
// <CallToolResult>}; {"kind":"error","message":"..."} (isError: true); {"kind":"exit","code":1}
// (the process exits without answering, as a crashing server would); {"kind":"process"}
// (structuredContent { pid, env: sorted names of its environment variables, cwd });
// {"kind":"parent-environ"} (structuredContent { ppid, environ: the NUL-separated entries of
// /proc/<ppid>/environ, the environment its parent was started with, or error }): what a child
// can read of the process that started it.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

const file = process.argv[2] ?? process.env['MCP_TEST_TOOLS_FILE'];
if (!file) {
  process.stderr.write('usage: node stdio-server.mjs <tools.json> (or MCP_TEST_TOOLS_FILE)\n');
  process.exit(2);
}
const POLL_MS = 50;

function read() {
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  const tools = Array.isArray(parsed) ? parsed : parsed.tools;
  if (!Array.isArray(tools)) throw new Error(`${file}: expected { "tools": [...] }`);
  return { tools, exit: Array.isArray(parsed) ? undefined : parsed.exit };
}

let tools = read().tools;

const mcp = new McpServer(
  { name: 'toolbus-test-mcp-stdio', version: '1.0.0' },
  { capabilities: { tools: { listChanged: true } } },
);

mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: tools.map((t) => ({
    name: t.name,
    ...(t.title !== undefined ? { title: t.title } : {}),
    ...(t.description !== undefined
      ? {
          description: t.description.replaceAll(
            '${env}',
            Object.keys(process.env).sort().join(','),
          ),
        }
      : {}),
    inputSchema: t.inputSchema ?? { type: 'object', properties: {} },
    ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
    ...(t.annotations ? { annotations: t.annotations } : {}),
  })),
}));

mcp.server.setRequestHandler(CallToolRequestSchema, (request) => {
  const tool = tools.find((t) => t.name === request.params.name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
  const args = request.params.arguments ?? {};
  const behaviour = tool.behaviour ?? { kind: 'echo' };
  switch (behaviour.kind) {
    case 'echo':
      return {
        content: [{ type: 'text', text: JSON.stringify(args) }],
        ...(tool.outputSchema ? { structuredContent: args } : {}),
      };
    case 'text':
      return { content: [{ type: 'text', text: String(behaviour.text) }] };
    case 'result':
      return behaviour.result;
    case 'error':
      return { content: [{ type: 'text', text: String(behaviour.message) }], isError: true };
    case 'exit':
      process.exit(behaviour.code ?? 1);
      break;
    case 'process': {
      const info = { pid: process.pid, env: Object.keys(process.env).sort(), cwd: process.cwd() };
      return {
        content: [{ type: 'text', text: JSON.stringify(info) }],
        structuredContent: info,
      };
    }
    case 'parent-environ': {
      let info;
      try {
        const raw = readFileSync(`/proc/${process.ppid}/environ`, 'utf8');
        info = { ppid: process.ppid, environ: raw.split('\0').filter(Boolean) };
      } catch (error) {
        info = { ppid: process.ppid, environ: [], error: String(error) };
      }
      return {
        content: [{ type: 'text', text: JSON.stringify(info) }],
        structuredContent: info,
      };
    }
    default:
      throw new McpError(ErrorCode.InternalError, `unknown behaviour ${JSON.stringify(behaviour)}`);
  }
  return { content: [] };
});

watchFile(file, { interval: POLL_MS }, (current, previous) => {
  if (
    current.mtimeMs === previous.mtimeMs &&
    current.ino === previous.ino &&
    current.size === previous.size
  )
    return;
  let next;
  try {
    next = read();
  } catch (error) {
    process.stderr.write(`stdio-server: keeping the previous tools: ${String(error)}\n`);
    return;
  }
  if (typeof next.exit === 'number') process.exit(next.exit);
  tools = next.tools;
  mcp.server.sendToolListChanged().catch((error) => {
    process.stderr.write(`stdio-server: list_changed not sent: ${String(error)}\n`);
  });
});

// The client ends the session by closing stdin; the file watcher must not keep the process up.
const stop = () => {
  unwatchFile(file);
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);

await mcp.connect(new StdioServerTransport());
