import {
  RegisterToolRequest,
  ToolName,
  type McpBinding,
  type McpUpstreamRequest,
} from '@toolbus/contracts';
import { z } from 'zod';

const hint = z.boolean().optional().catch(undefined);
const text = z.string().optional().catch(undefined);

/**
 * A tool as an upstream MCP server lists it, parsed leniently: only a string `name` is required,
 * so one malformed tool is reported by the mapping (skipped, with the reason) instead of failing
 * the whole listing as the SDK's strict `Tool` schema would. Any SDK `Tool` is one of these.
 */
export const UpstreamTool = z
  .object({
    name: z.string(),
    title: text,
    description: text,
    inputSchema: z.unknown(),
    outputSchema: z.unknown().optional(),
    annotations: z
      .object({
        title: text,
        readOnlyHint: hint,
        destructiveHint: hint,
        idempotentHint: hint,
        openWorldHint: hint,
      })
      .optional()
      .catch(undefined),
  })
  .loose();
export type UpstreamTool = z.infer<typeof UpstreamTool>;

/** One upstream tool as a registry definition (every version field but the version). */
export interface McpToolDefinition {
  /** The tool's name on the upstream server (the binding's `tool`). */
  upstreamTool: string;
  definition: Omit<RegisterToolRequest, 'version'>;
}

/** An upstream tool the registry cannot catalogue, and why. */
export interface SkippedMcpTool {
  tool: string;
  reason: string;
}

export interface McpToolMapping {
  definitions: McpToolDefinition[];
  skipped: SkippedMcpTool[];
}

const DefinitionWithoutVersion = RegisterToolRequest.omit({ version: true });

/** Characters an upstream name may use; anything else has no faithful snake_case spelling. */
const UPSTREAM_NAME = /^[A-Za-z0-9_\-./ ]+$/;

/**
 * `getHTTPResponse` → `get_http_response`, `list-open.orders` → `list_open_orders`: word
 * boundaries at case changes and at any run of `_ - . /` or spaces, lower-cased, no leading,
 * trailing or doubled underscores.
 */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** The prefix of an upstream's tool names: its own, none (null), or `<name with - as _>_`. */
export function toolNamePrefix(upstream: Pick<McpUpstreamRequest, 'name' | 'prefix'>): string {
  if (upstream.prefix === null) return '';
  return upstream.prefix ?? `${upstream.name.replace(/-/g, '_')}_`;
}

/** The registry name of an upstream tool, or why it has none. */
export function registryToolName(
  upstream: Pick<McpUpstreamRequest, 'name' | 'prefix'>,
  upstreamName: string,
): { name: string } | { reason: string } {
  if (!UPSTREAM_NAME.test(upstreamName))
    return {
      reason: `name "${upstreamName}" has characters other than ASCII letters, digits, _, -, ., / and spaces`,
    };
  const base = snakeCase(upstreamName);
  if (base === '') return { reason: `name "${upstreamName}" has no letters or digits` };
  const name = `${toolNamePrefix(upstream)}${base}`;
  if (name.length > 64)
    return { reason: `"${name}" is longer than 64 characters (the registry's limit)` };
  if (!ToolName.safeParse(name).success)
    return { reason: `"${name}" is not a valid tool name: it must start with a lower-case letter` };
  return { name };
}

function isObjectSchema(schema: unknown): schema is Record<string, unknown> {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    !Array.isArray(schema) &&
    (schema as Record<string, unknown>)['type'] === 'object'
  );
}

function describeSchema(schema: unknown): string {
  if (schema === undefined) return 'none';
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return `a JSON ${Array.isArray(schema) ? 'array' : schema === null ? 'null' : typeof schema}`;
  const type = (schema as Record<string, unknown>)['type'];
  return type === undefined ? 'a schema without "type"' : `type ${JSON.stringify(type)}`;
}

function firstNonEmpty(...values: Array<string | undefined>): string | undefined {
  return values.map((v) => v?.trim()).find((v): v is string => !!v);
}

/**
 * Maps the tools an upstream MCP server lists to registry definitions executed by the MCP
 * bridge. Names are `prefix + snake_case(upstream name)`; a tool whose name cannot be made a
 * valid registry name, that collides with another after mapping (all of the colliding ones:
 * which one would win must not depend on listing order), or whose input or output schema does
 * not describe an object, is returned in `skipped` with the reason, so a sync still records
 * the good ones. Every returned definition passes `RegisterToolRequest` without its version.
 *
 * Annotations take MCP's defaults (readOnly false, destructive true, idempotent false, open
 * world true), except that a read-only tool is never called destructive: MCP gives
 * `destructiveHint` meaning only when `readOnlyHint` is false.
 */
export function toToolDefinitions(
  upstream: McpUpstreamRequest,
  tools: readonly UpstreamTool[],
): McpToolMapping {
  const skipped: SkippedMcpTool[] = [];
  const named: Array<{ tool: UpstreamTool; name: string }> = [];
  for (const raw of tools) {
    // Parsed again here: callers may pass SDK tools or hand-made data, and a wrong-typed
    // annotation must fall back to its default rather than fail the definition.
    const parsed = UpstreamTool.safeParse(raw);
    if (!parsed.success) {
      skipped.push({ tool: String((raw as { name?: unknown }).name), reason: 'it has no name' });
      continue;
    }
    const tool = parsed.data;
    const result = registryToolName(upstream, tool.name);
    if ('reason' in result) skipped.push({ tool: tool.name, reason: result.reason });
    else named.push({ tool, name: result.name });
  }

  const byName = new Map<string, string[]>();
  for (const { tool, name } of named) byName.set(name, [...(byName.get(name) ?? []), tool.name]);

  const definitions: McpToolDefinition[] = [];
  const reported = new Set<string>();
  for (const { tool, name } of named) {
    const sources = byName.get(name) ?? [];
    if (sources.length > 1) {
      if (reported.has(tool.name)) continue;
      reported.add(tool.name);
      const others = [...new Set(sources.filter((s) => s !== tool.name))];
      skipped.push({
        tool: tool.name,
        reason:
          others.length === 0
            ? `the server lists "${tool.name}" more than once`
            : `collides with ${others.map((o) => `"${o}"`).join(', ')}: all map to "${name}"`,
      });
      continue;
    }
    if (!isObjectSchema(tool.inputSchema)) {
      skipped.push({
        tool: tool.name,
        reason: `inputSchema must be a JSON Schema of type "object" (MCP requires it); got ${describeSchema(tool.inputSchema)}`,
      });
      continue;
    }
    if (tool.outputSchema !== undefined && !isObjectSchema(tool.outputSchema)) {
      skipped.push({
        tool: tool.name,
        reason: `outputSchema must be a JSON Schema of type "object" (structured content is an object); got ${describeSchema(tool.outputSchema)}`,
      });
      continue;
    }
    const title = (firstNonEmpty(tool.title, tool.annotations?.title) ?? tool.name).slice(0, 200);
    const readOnly = tool.annotations?.readOnlyHint ?? false;
    const binding: McpBinding = {
      kind: 'mcp',
      server: upstream.name,
      tool: tool.name,
      transport: upstream.transport,
      ...(upstream.credentialsSecret ? { credentialsSecret: upstream.credentialsSecret } : {}),
    };
    const candidate = {
      name,
      title,
      description: (firstNonEmpty(tool.description) ?? title).slice(0, 10_000),
      inputSchema: tool.inputSchema,
      ...(tool.outputSchema !== undefined ? { outputSchema: tool.outputSchema } : {}),
      annotations: {
        readOnlyHint: readOnly,
        destructiveHint: readOnly ? false : (tool.annotations?.destructiveHint ?? true),
        idempotentHint: tool.annotations?.idempotentHint ?? false,
        openWorldHint: tool.annotations?.openWorldHint ?? true,
      },
      owner: upstream.owner,
      scopes: upstream.scopes,
      timeoutMs: upstream.timeoutMs,
      cacheTtlSeconds: 0,
      transport: { kind: 'kafka', topic: upstream.executorTopic },
      sync: false,
      region: upstream.region,
      tags: upstream.tags,
      binding,
    };
    const parsed = DefinitionWithoutVersion.safeParse(candidate);
    if (!parsed.success) {
      skipped.push({
        tool: tool.name,
        reason: `not a valid definition: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
          .join('; ')
          .slice(0, 500)}`,
      });
      continue;
    }
    definitions.push({ upstreamTool: tool.name, definition: parsed.data });
  }
  return { definitions, skipped };
}
