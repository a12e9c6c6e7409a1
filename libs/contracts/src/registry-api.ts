import { z } from 'zod';
import { Region, Scope, Timestamp, ToolName } from './common.js';
import { McpServerTransport, SecretName, ToolDefinition, ToolStatus } from './tool-definition.js';
import { toolRequestsTopic } from './topics.js';

const enc = encodeURIComponent;

/**
 * The registry's HTTP API. Every path is under /v1; the OpenAPI document is served at
 * `/openapi.json`. Errors are RFC 9457 problem+json; a 422 lists each bad field by pointer.
 */
export const RegistryPaths = {
  /** GET: search (q, tag, owner, region, status, limit, cursor). POST: create a draft. */
  tools: '/v1/tools',
  /** GET `name` (latest approved, or deprecated with a Warning) or `name@version`. */
  tool: (ref: string) => `/v1/tools/${enc(ref)}`,
  /** GET: every version of a tool with its status (for reviewers). */
  toolVersions: (name: string) => `/v1/tools/${enc(name)}/versions`,
  /** PUT: create this version (a draft until approved); GET: read it. Versions are immutable. */
  toolVersion: (name: string, version: string) => `/v1/tools/${enc(name)}/versions/${enc(version)}`,
  /** POST: approve (registry:approve, not the author), deprecate or retire a version. */
  lifecycle: (name: string, version: string, action: LifecycleAction) =>
    `/v1/tools/${enc(name)}/versions/${enc(version)}/${action}`,
  /** GET: every served tool with its revision; the start-up snapshot of registry clients. */
  catalog: '/v1/catalog',
  /** POST: import an OpenAPI 3.0/3.1 document (JSON or YAML) as draft tools. */
  importOpenApi: '/v1/imports/openapi',
  /** GET: list; POST: register an upstream MCP server. */
  upstreams: '/v1/upstreams/mcp',
  /** GET, DELETE one upstream. */
  upstream: (name: string) => `/v1/upstreams/mcp/${enc(name)}`,
  /** POST: list the upstream's tools now and record the changes. */
  upstreamSync: (name: string) => `/v1/upstreams/mcp/${enc(name)}/sync`,
  openApiDocument: '/openapi.json',
  /** GET, no token: the public keys change events are signed with (a JWKS). */
  jwks: '/.well-known/jwks.json',
} as const;

export const LifecycleAction = z.enum(['approve', 'deprecate', 'retire']);
export type LifecycleAction = z.infer<typeof LifecycleAction>;

/** Scopes the registry's own API checks. */
export const RegistryScopes = {
  read: 'registry:read',
  /**
   * A service scope: with registry:read, the whole served catalog (`/v1/catalog`, listings)
   * instead of only the tools whose scopes the caller holds. The executors' token has it.
   */
  catalog: 'registry:catalog',
  write: 'registry:write',
  approve: 'registry:approve',
  admin: 'registry:admin',
} as const;

/** Body of PUT /v1/tools/{name}/versions/{version} and POST /v1/tools. */
export const RegisterToolRequest = ToolDefinition.omit({ status: true }).describe(
  'A tool version as its consumer declares it',
);
export type RegisterToolRequest = z.infer<typeof RegisterToolRequest>;

/** Answer to a registration. */
export const RegisterToolResponse = z.object({
  name: z.string(),
  version: z.string(),
  status: ToolStatus,
  created: z.boolean().describe('False when an identical version already existed'),
});
export type RegisterToolResponse = z.infer<typeof RegisterToolResponse>;

/** Where a version came from. */
export const ToolSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('api') }),
  z.object({
    kind: z.literal('openapi'),
    import: z.string().describe('Import name'),
    operation: z.string().describe('e.g. "GET /customers/{id}"'),
  }),
  z.object({ kind: z.literal('mcp'), upstream: z.string(), tool: z.string() }),
]);
export type ToolSource = z.infer<typeof ToolSource>;

/** A stored tool version with its governance record. */
export const ToolVersionRecord = ToolDefinition.extend({
  author: z.string().describe('Subject that created the version'),
  createdAt: Timestamp,
  approvedBy: z.string().nullable(),
  approvedAt: Timestamp.nullable(),
  statusChangedAt: Timestamp,
  statusReason: z.string().nullable(),
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('SHA-256 of the canonical definition'),
  source: ToolSource,
}).describe('A tool version as the registry stores it');
export type ToolVersionRecord = z.infer<typeof ToolVersionRecord>;

export const ToolPage = z.object({
  items: z.array(ToolVersionRecord),
  nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null at the end'),
});
export type ToolPage = z.infer<typeof ToolPage>;

export const LifecycleRequest = z.object({
  reason: z.string().min(1).max(2000).optional().describe('Why; recorded in the audit event'),
});
export type LifecycleRequest = z.infer<typeof LifecycleRequest>;

/** One tool's served versions, as in the snapshot and the change events. */
export const CatalogEntry = z.object({
  name: ToolName,
  revision: z.number().int().positive(),
  served: z.array(ToolDefinition),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const CatalogSnapshot = z.object({
  revision: z.number().int().nonnegative().describe('The newest revision included'),
  tools: z.array(CatalogEntry),
});
export type CatalogSnapshot = z.infer<typeof CatalogSnapshot>;

/** Name of an import or an upstream: how re-imports and syncs find what they made before. */
export const SourceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    'must be lower-case letters, digits and -, starting with a letter',
  );

export const OpenApiImportRequest = z.object({
  source: SourceName.describe('Import name; re-importing under the same name reports a diff'),
  document: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .describe('The OpenAPI 3.0 or 3.1 document: JSON or YAML text, or a JSON object'),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("The API's base URL; defaults to the document's first server"),
  credentialsSecret: SecretName.optional(),
  owner: z.string().min(1).max(128),
  region: Region,
  namePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/)
    .optional()
    .describe('Prefix for every tool name, e.g. "billing_"'),
  tags: z.array(z.string().min(1).max(64)).max(16).default([]),
  timeoutMs: z.number().int().positive().max(600_000).default(10_000),
  executorTopic: z
    .string()
    .regex(/^tool_requests\.[a-z][a-z0-9-]*$/)
    .default(toolRequestsTopic('http-executor')),
  dryRun: z.boolean().default(false).describe('Report the diff without writing anything'),
});
export type OpenApiImportRequest = z.infer<typeof OpenApiImportRequest>;

export const ImportedTool = z.object({
  name: ToolName,
  version: z.string().nullable().describe('The draft created (null when unchanged or removed)'),
  operation: z.string(),
});
export type ImportedTool = z.infer<typeof ImportedTool>;

/** What an import or an upstream sync found, compared with the previous one. */
export const ImportDiff = z.object({
  source: z.string(),
  dryRun: z.boolean(),
  added: z.array(ImportedTool),
  changed: z.array(ImportedTool),
  removed: z.array(ImportedTool),
  unchanged: z.array(ImportedTool),
});
export type ImportDiff = z.infer<typeof ImportDiff>;

export const McpUpstreamRequest = z.object({
  name: SourceName,
  transport: McpServerTransport,
  credentialsSecret: SecretName.optional().describe('Bearer token (key "token") for the server'),
  prefix: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/)
    .nullable()
    .optional()
    .describe('Prefix for tool names; null exposes them unprefixed; default "<name>_"'),
  owner: z.string().min(1).max(128),
  region: Region,
  scopes: z.array(Scope).max(32).default([]).describe('Scopes needed for every tool of the server'),
  tags: z.array(z.string().min(1).max(64)).max(16).default([]),
  timeoutMs: z.number().int().positive().max(600_000).default(10_000),
  syncIntervalSeconds: z
    .number()
    .int()
    .min(10)
    .max(86_400)
    .default(300)
    .describe('Re-list the tools this often, besides on notifications/tools/list_changed'),
  executorTopic: z
    .string()
    .regex(/^tool_requests\.[a-z][a-z0-9-]*$/)
    .default(toolRequestsTopic('mcp-bridge')),
});
export type McpUpstreamRequest = z.infer<typeof McpUpstreamRequest>;

export const McpUpstreamRecord = McpUpstreamRequest.extend({
  createdBy: z.string(),
  createdAt: Timestamp,
  lastSyncAt: Timestamp.nullable(),
  lastSyncError: z.string().nullable(),
  tools: z.array(z.string()).describe('Registry names of its tools'),
});
export type McpUpstreamRecord = z.infer<typeof McpUpstreamRecord>;
