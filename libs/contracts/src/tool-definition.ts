import { z } from 'zod';
import { JsonObject, Region, Scope, Timestamp, ToolName } from './common.js';

export const ToolAnnotations = z
  .object({
    readOnlyHint: z.boolean().default(false),
    destructiveHint: z.boolean().default(true),
    idempotentHint: z.boolean().default(false),
    openWorldHint: z.boolean().default(true),
  })
  .describe('MCP tool annotations');
export type ToolAnnotations = z.infer<typeof ToolAnnotations>;

export const ToolTransport = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('kafka'),
    topic: z.string().regex(/^tool_requests\.[a-z][a-z0-9-]*$/, 'must be tool_requests.<service>'),
  }),
  z.object({ kind: z.literal('http'), url: z.url({ protocol: /^https?$/ }) }),
]);
export type ToolTransport = z.infer<typeof ToolTransport>;

export const ToolStatus = z.enum(['draft', 'approved', 'deprecated', 'retired']);
export type ToolStatus = z.infer<typeof ToolStatus>;

export const ToolDefinition = z
  .object({
    name: ToolName,
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a semantic version such as 1.2.0'),
    title: z.string().min(1).max(200),
    description: z.string().min(1).max(10_000),
    inputSchema: JsonObject.describe('JSON Schema of the input; must describe an object'),
    outputSchema: JsonObject.optional().describe('JSON Schema of the output'),
    annotations: ToolAnnotations,
    owner: z.string().min(1).max(128).describe('Owning team'),
    scopes: z.array(Scope).max(32).describe('Scopes a caller needs (all of them)'),
    rateLimitPerMinute: z.number().int().positive().max(1_000_000).optional(),
    timeoutMs: z.number().int().positive().max(600_000).default(2000),
    cacheTtlSeconds: z.number().int().nonnegative().max(86_400).default(0),
    transport: ToolTransport,
    sync: z
      .boolean()
      .default(false)
      .describe('Synchronous tools are called over HTTP with a deadline'),
    region: Region.describe('Where the tool processes data'),
    tags: z.array(z.string().min(1).max(64)).max(32).default([]),
    status: ToolStatus.default('draft'),
  })
  .describe('A tool as the registry catalogues it');
export type ToolDefinition = z.infer<typeof ToolDefinition>;

export const RegistryChanged = z
  .object({
    name: ToolName,
    version: z.string(),
    change: z.enum(['approved', 'deprecated', 'retired']),
    definition: ToolDefinition.nullable().describe('The version now in force; null once retired'),
    actor: z.string().min(1),
    at: Timestamp,
  })
  .describe('A tool version changed state; compacted by tool name');
export type RegistryChanged = z.infer<typeof RegistryChanged>;
