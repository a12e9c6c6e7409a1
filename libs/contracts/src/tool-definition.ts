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
  z.object({
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    service: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/)
      .optional()
      .describe('The consumer service behind the URL: the audience of its call grants'),
  }),
]);
export type ToolTransport = z.infer<typeof ToolTransport>;

export const ToolStatus = z.enum(['draft', 'approved', 'deprecated', 'retired']);
export type ToolStatus = z.infer<typeof ToolStatus>;

/**
 * The name of a mounted secret (a Kubernetes Secret name). Definitions hold only this
 * reference; the executor reads the value from `<SECRETS_DIR>/<name>/<key>` when it calls.
 */
export const SecretName = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a Kubernetes secret name: lower-case letters, digits, - and .',
  )
  .describe('Name of a mounted secret; never the secret itself');

/** How the HTTP executor authenticates to the upstream API with the referenced secret. */
export const HttpAuth = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('bearer') }).describe('Authorization: Bearer <secret key "token">'),
    z
      .object({ kind: z.literal('basic') })
      .describe('Authorization: Basic from secret keys "username" and "password"'),
    z
      .object({
        kind: z.literal('api_key'),
        in: z.enum(['header', 'query']),
        name: z.string().min(1).max(256),
      })
      .describe('An API key (secret key "api_key") in a header or query parameter'),
  ])
  .describe('How the credentials are presented');
export type HttpAuth = z.infer<typeof HttpAuth>;

export const HttpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export type HttpMethod = z.infer<typeof HttpMethod>;

/** One input field sent as a path, query or header parameter. */
export const HttpParameterBinding = z.object({
  field: z.string().min(1).max(128).describe('Property of the tool input'),
  in: z.enum(['path', 'query', 'header']),
  name: z.string().min(1).max(256).describe('Name on the wire'),
  required: z.boolean().default(false),
});
export type HttpParameterBinding = z.infer<typeof HttpParameterBinding>;

/** An imported OpenAPI operation, executed by the HTTP executor. */
export const HttpBinding = z
  .object({
    kind: z.literal('http'),
    method: HttpMethod,
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .describe('The API server, e.g. https://api.acme.com/v2'),
    path: z
      .string()
      .regex(/^\//, 'must start with /')
      .max(2048)
      .describe('Path template, e.g. /customers/{id}'),
    parameters: z.array(HttpParameterBinding).max(256).default([]),
    body: z
      .object({
        field: z.string().min(1).max(128).describe('Property of the tool input sent as the body'),
        contentType: z.enum(['application/json', 'application/x-www-form-urlencoded']),
        required: z.boolean().default(false),
      })
      .optional(),
    auth: HttpAuth.optional(),
    credentialsSecret: SecretName.optional(),
  })
  .describe('Where and how an imported OpenAPI operation is called');
export type HttpBinding = z.infer<typeof HttpBinding>;

/** How to reach an MCP server: Streamable HTTP, or a stdio command (a sidecar). */
export const McpServerTransport = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('streamable_http'), url: z.url({ protocol: /^https?$/ }) }),
  z.object({
    kind: z.literal('stdio'),
    command: z.string().min(1).max(1024),
    args: z.array(z.string().max(4096)).max(64).default([]),
    cwd: z.string().max(1024).optional(),
  }),
]);
export type McpServerTransport = z.infer<typeof McpServerTransport>;

/** A tool of an upstream MCP server, executed by the MCP bridge. */
export const McpBinding = z
  .object({
    kind: z.literal('mcp'),
    server: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
    tool: z.string().min(1).max(128).describe('The tool name on the upstream server'),
    transport: McpServerTransport,
    credentialsSecret: SecretName.optional().describe('Bearer token (key "token") for the server'),
  })
  .describe('Which upstream MCP server tool this is');
export type McpBinding = z.infer<typeof McpBinding>;

export const ToolBinding = z.discriminatedUnion('kind', [HttpBinding, McpBinding]);
export type ToolBinding = z.infer<typeof ToolBinding>;

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
    binding: ToolBinding.optional().describe(
      'For generic executors: the REST operation or upstream MCP tool behind this tool',
    ),
    status: ToolStatus.default('draft'),
  })
  .describe('A tool as the registry catalogues it');
export type ToolDefinition = z.infer<typeof ToolDefinition>;

/**
 * A tool's state after a change: every version still served (approved or deprecated). The
 * topic is compacted by tool name, so the latest event per tool is its whole current state.
 */
export const RegistryChanged = z
  .object({
    name: ToolName,
    revision: z
      .number()
      .int()
      .positive()
      .describe('Increases with every change in the registry; newer state wins'),
    change: z.object({
      version: z.string(),
      status: z.enum(['approved', 'deprecated', 'retired']),
    }),
    served: z
      .array(ToolDefinition)
      .describe('Approved and deprecated versions, newest first; empty once all are retired'),
    actor: z.string().min(1),
    at: Timestamp,
    signature: z
      .string()
      .max(4096)
      .regex(
        /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/,
        'must be a JWS with a detached payload: <protected header>..<signature>',
      )
      .optional()
      .describe(
        "The registry's signature: a JWS (EdDSA, with the key's kid) whose detached payload is the event without this field as canonical JSON (RFC 8785: keys sorted, no whitespace). Verified against the registry's JWKS (/.well-known/jwks.json); readers refuse events without a valid one",
      ),
  })
  .describe('A tool version changed state; keyed (and compacted) by tool name');
export type RegistryChanged = z.infer<typeof RegistryChanged>;
