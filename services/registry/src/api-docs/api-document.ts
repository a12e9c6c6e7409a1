import {
  CatalogSnapshot,
  ImportDiff,
  LifecycleRequest,
  McpUpstreamRecord,
  McpUpstreamRequest,
  OpenApiImportRequest,
  RegisterToolRequest,
  RegisterToolResponse,
  RegistryScopes,
  ToolPage,
  ToolVersionRecord,
} from '@toolbus/contracts';
import { z } from 'zod';

const schemas = {
  RegisterToolRequest,
  RegisterToolResponse,
  ToolVersionRecord,
  ToolPage,
  ToolVersions: z.object({ items: z.array(ToolVersionRecord) }),
  LifecycleRequest,
  CatalogSnapshot,
  OpenApiImportRequest,
  ImportDiff,
  McpUpstreamRequest,
  McpUpstreamRecord,
  McpUpstreamList: z.object({ items: z.array(McpUpstreamRecord) }),
  McpUpstreamRegistered: z.object({ upstream: McpUpstreamRecord, diff: ImportDiff }),
  Problem: z.object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    issues: z
      .array(z.object({ pointer: z.string(), message: z.string() }))
      .optional()
      .describe('Each bad field, by JSON pointer'),
  }),
};

function component(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  return rest;
}

const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof schemas) => ({ 'application/json': { schema: ref(name) } });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const ok = (name: keyof typeof schemas, description = 'OK') => ({
  description,
  content: json(name),
});
const secured = (scope: string) => ({ security: [{ bearer: [scope] }] });
const errors = {
  '401': problem('No valid bearer token'),
  '403': problem(
    'A scope is missing (named in the detail), or the caller is not of the owning team',
  ),
};
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const etagged = {
  '304': { description: 'Not modified (If-None-Match matched the ETag)' },
};

/** The registry API's OpenAPI 3.1 document, its schemas generated from the contracts. */
export function registryApiDocument(): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas))
    components[name] = component(schema, name.endsWith('Request') ? 'input' : 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Toolbus registry',
      version: '1.0.0',
      description:
        'The governed tool catalog: immutable tool versions, four-eyes approval, search, OpenAPI import and upstream MCP servers. Errors are RFC 9457 problem+json.',
    },
    components: {
      schemas: components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `Scopes: ${Object.values(RegistryScopes).join(', ')}`,
        },
      },
    },
    paths: {
      '/v1/tools': {
        get: {
          operationId: 'searchTools',
          summary: 'Search the tools the caller may use',
          description:
            'One item per tool (its served version) unless status is given. Filtered by the caller’s scopes and regions. Cursor-paginated; ETag and If-None-Match.',
          ...secured(RegistryScopes.read),
          parameters: [
            { name: 'q', in: 'query', schema: { type: 'string', maxLength: 200 } },
            { name: 'tag', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
            { name: 'owner', in: 'query', schema: { type: 'string' } },
            { name: 'region', in: 'query', schema: { type: 'string' } },
            {
              name: 'status',
              in: 'query',
              description:
                'Comma-separated; draft and retired need registry:write or registry:approve',
              schema: { type: 'string' },
            },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, default: 20 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': ok('ToolPage'), ...etagged, ...errors, '422': problem('Bad query') },
        },
        post: {
          operationId: 'createToolVersion',
          summary: 'Create a draft tool version',
          ...secured(RegistryScopes.write),
          requestBody: { required: true, content: json('RegisterToolRequest') },
          responses: {
            '201': ok('RegisterToolResponse', 'Created'),
            '200': ok('RegisterToolResponse', 'An identical version already existed'),
            ...errors,
            '409': problem(
              'The name belongs to another team, or the version exists with another definition',
            ),
            '422': problem('The definition is invalid (each field named)'),
          },
        },
      },
      '/v1/tools/{ref}': {
        get: {
          operationId: 'getTool',
          summary: 'The newest approved version of a tool, or name@version',
          description:
            'A deprecated version is served with `Deprecation: true` and a `Warning` header; a retired one answers 410.',
          ...secured(RegistryScopes.read),
          parameters: [pathParam('ref', 'get_credit_limit or get_credit_limit@1.2.0')],
          responses: {
            '200': ok('ToolVersionRecord'),
            ...etagged,
            ...errors,
            '404': problem('No such tool for this caller'),
            '410': problem('The version is retired'),
          },
        },
      },
      '/v1/tools/{name}/versions': {
        get: {
          operationId: 'listToolVersions',
          summary: 'Every version of a tool (drafts and retired ones for reviewers)',
          ...secured(RegistryScopes.read),
          parameters: [pathParam('name', 'Tool name')],
          responses: {
            '200': ok('ToolVersions'),
            ...etagged,
            ...errors,
            '404': problem('No such tool'),
          },
        },
      },
      '/v1/tools/{name}/versions/{version}': {
        get: {
          operationId: 'getToolVersion',
          summary: 'One version of a tool',
          ...secured(RegistryScopes.read),
          parameters: [pathParam('name', 'Tool name'), pathParam('version', 'Semantic version')],
          responses: {
            '200': ok('ToolVersionRecord'),
            ...etagged,
            ...errors,
            '404': problem('No such version'),
          },
        },
        put: {
          operationId: 'registerToolVersion',
          summary:
            'Register a tool version (tool consumers do at start-up); versions are immutable',
          ...secured(RegistryScopes.write),
          parameters: [pathParam('name', 'Tool name'), pathParam('version', 'Semantic version')],
          requestBody: { required: true, content: json('RegisterToolRequest') },
          responses: {
            '201': ok('RegisterToolResponse', 'Created as a draft'),
            '200': ok('RegisterToolResponse', 'An identical version already existed'),
            ...errors,
            '409': problem(
              'The name belongs to another team, or the version exists with another definition',
            ),
            '422': problem('The definition is invalid (each field named)'),
          },
        },
      },
      '/v1/tools/{name}/versions/{version}/{action}': {
        post: {
          operationId: 'changeToolVersionStatus',
          summary: 'Approve, deprecate or retire a version',
          description:
            'Needs registry:approve. Approval needs a principal other than the author (four eyes). Publishes a change event on toolbus.registry.changes and an audit event.',
          ...secured(RegistryScopes.approve),
          parameters: [
            pathParam('name', 'Tool name'),
            pathParam('version', 'Semantic version'),
            {
              ...pathParam('action', 'approve, deprecate or retire'),
              schema: { enum: ['approve', 'deprecate', 'retire'] },
            },
          ],
          requestBody: { required: false, content: json('LifecycleRequest') },
          responses: {
            '200': ok('ToolVersionRecord'),
            ...errors,
            '404': problem('No such version or action'),
            '409': problem('Not allowed from the current status'),
          },
        },
      },
      '/v1/catalog': {
        get: {
          operationId: 'getCatalogSnapshot',
          summary: 'Every served tool with its revision (registry clients’ start-up snapshot)',
          description:
            'With registry:catalog (the executors) every served tool; with registry:read alone only the tools whose scopes and region the caller holds.',
          ...secured(RegistryScopes.read),
          responses: { '200': ok('CatalogSnapshot'), ...etagged, ...errors },
        },
      },
      '/v1/imports/openapi': {
        post: {
          operationId: 'importOpenApi',
          summary: 'Import an OpenAPI 3.0/3.1 document as draft tools and report the diff',
          description:
            'One draft per new or changed operation, in one transaction; a failure writes nothing. dryRun reports without writing.',
          ...secured(RegistryScopes.write),
          requestBody: { required: true, content: json('OpenApiImportRequest') },
          responses: {
            '200': ok('ImportDiff'),
            ...errors,
            '409': problem('A tool name belongs to another team'),
            '422': problem('The document is invalid (pointer into /document)'),
          },
        },
      },
      '/v1/upstreams/mcp': {
        get: {
          operationId: 'listMcpUpstreams',
          summary: 'Registered upstream MCP servers',
          ...secured(RegistryScopes.read),
          responses: { '200': ok('McpUpstreamList'), ...errors },
        },
        post: {
          operationId: 'registerMcpUpstream',
          summary: 'Register an upstream MCP server and list its tools into drafts',
          ...secured(RegistryScopes.admin),
          requestBody: { required: true, content: json('McpUpstreamRequest') },
          responses: {
            '201': ok('McpUpstreamRegistered', 'Registered'),
            ...errors,
            '422': problem('Invalid registration, or the server could not be listed'),
          },
        },
      },
      '/v1/upstreams/mcp/{name}': {
        get: {
          operationId: 'getMcpUpstream',
          summary: 'One upstream MCP server',
          ...secured(RegistryScopes.read),
          parameters: [pathParam('name', 'Upstream name')],
          responses: {
            '200': ok('McpUpstreamRecord'),
            ...errors,
            '404': problem('No such upstream'),
          },
        },
        delete: {
          operationId: 'removeMcpUpstream',
          summary: 'Stop syncing an upstream (its tools stay until retired)',
          ...secured(RegistryScopes.admin),
          parameters: [pathParam('name', 'Upstream name')],
          responses: {
            '204': { description: 'Removed' },
            ...errors,
            '404': problem('No such upstream'),
          },
        },
      },
      '/v1/upstreams/mcp/{name}/sync': {
        post: {
          operationId: 'syncMcpUpstream',
          summary: 'List the upstream’s tools now and record the changes',
          ...secured(RegistryScopes.write),
          parameters: [pathParam('name', 'Upstream name')],
          responses: {
            '200': ok('ImportDiff'),
            ...errors,
            '404': problem('No such upstream'),
            '422': problem('The server could not be listed'),
          },
        },
      },
      '/.well-known/jwks.json': {
        get: {
          operationId: 'getSigningKeys',
          summary: 'The public keys change events are signed with (a JWKS)',
          description:
            'Readers verify each toolbus.registry.changes event (its detached JWS `signature`) against these keys, reloading them when an event names an unknown kid.',
          security: [],
          responses: { '200': { description: 'JSON Web Key Set (Ed25519 public keys)' } },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getApiDocument',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1 document' } },
        },
      },
    },
  };
}
