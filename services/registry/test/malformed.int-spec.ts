import { RegistryPaths } from '@toolbus/contracts';
import { uniqueName } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  definition,
  startTestRegistry,
  type Client,
  type TestRegistry,
} from './support.js';

type Issue = { pointer: string; message: string };

describe('malformed tool definitions are refused with a 422 naming the field', () => {
  let t: TestRegistry;
  let alice: Client;
  const tool = uniqueName('bad').replace(/-/g, '_');

  beforeAll(async () => {
    t = await startTestRegistry();
    alice = await client(t.url, 'alice', ['registry:write', 'registry:read', 'registry:approve'], {
      teams: ['team-crm'],
    });
  });
  afterAll(() => t?.close());

  const base = definition(tool) as Record<string, unknown>;
  const without = (key: string) =>
    Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a name with capitals', { ...base, name: 'GetCredit' }, '/name', /lower-case letter/],
    ['a name with a dash', { ...base, name: 'get-credit' }, '/name', /a-z, 0-9 and _/],
    ['a name of 65 characters', { ...base, name: `a${'b'.repeat(64)}` }, '/name', /at most 64/],
    ['no title', without('title'), '/title', /.+/],
    ['an empty description', { ...base, description: '' }, '/description', /.+/],
    ['a version that is not semver', { ...base, version: 'v1' }, '/version', /semantic version/],
    ['no input schema', without('inputSchema'), '/inputSchema', /.+/],
    [
      'an input schema of a string',
      { ...base, inputSchema: { type: 'string' } },
      '/inputSchema/type',
      /must be "object"/,
    ],
    [
      'an input schema without type',
      { ...base, inputSchema: { properties: {} } },
      '/inputSchema/type',
      /must be "object"/,
    ],
    ['an input schema that is an array', { ...base, inputSchema: [] }, '/inputSchema', /.+/],
    [
      'an input schema with an unknown type',
      { ...base, inputSchema: { type: 'object', properties: { a: { type: 'strin' } } } },
      '/inputSchema',
      /does not compile/,
    ],
    [
      'an input schema whose properties are a list',
      { ...base, inputSchema: { type: 'object', properties: ['a'] } },
      '/inputSchema/properties',
      /object of property schemas/,
    ],
    [
      'an input schema with an invalid pattern',
      {
        ...base,
        inputSchema: { type: 'object', properties: { a: { type: 'string', pattern: '([' } } },
      },
      '/inputSchema',
      /does not compile/,
    ],
    [
      'an input schema referring to a remote schema',
      {
        ...base,
        inputSchema: { type: 'object', properties: { a: { $ref: 'https://evil.example/s.json' } } },
      },
      '/inputSchema/properties/a/$ref',
      /refers outside the schema/,
    ],
    [
      'an input schema with a dangling local $ref',
      { ...base, inputSchema: { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } } },
      '/inputSchema',
      /does not compile/,
    ],
    [
      'an input schema of another draft',
      {
        ...base,
        inputSchema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' },
      },
      '/inputSchema/$schema',
      /2020-12/,
    ],
    [
      'an output schema with a bad minimum',
      {
        ...base,
        outputSchema: { type: 'object', properties: { n: { type: 'number', minimum: 'zero' } } },
      },
      '/outputSchema',
      /does not compile/,
    ],
    ['a malformed scope', { ...base, scopes: ['CRM read'] }, '/scopes/0', /area:action/],
    ['a scope without an action', { ...base, scopes: ['crm'] }, '/scopes/0', /area:action/],
    ['a repeated scope', { ...base, scopes: ['crm:read', 'crm:read'] }, '/scopes', /listed twice/],
    ['a negative timeout', { ...base, timeoutMs: -5 }, '/timeoutMs', /.+/],
    ['a timeout over ten minutes', { ...base, timeoutMs: 600_001 }, '/timeoutMs', /.+/],
    ['a rate limit of zero', { ...base, rateLimitPerMinute: 0 }, '/rateLimitPerMinute', /.+/],
    ['a cache TTL beyond a day', { ...base, cacheTtlSeconds: 86_401 }, '/cacheTtlSeconds', /.+/],
    ['a region that is not a code', { ...base, region: 'Europe' }, '/region', /region code/],
    ['an unknown transport', { ...base, transport: { kind: 'smtp' } }, '/transport/kind', /.+/],
    [
      'a kafka transport on another topic',
      { ...base, transport: { kind: 'kafka', topic: 'orders' } },
      '/transport/topic',
      /tool_requests/,
    ],
    [
      'an http transport that is not http',
      { ...base, transport: { kind: 'http', url: 'ftp://crm.internal/tools' } },
      '/transport/url',
      /.+/,
    ],
    [
      'a synchronous tool over kafka',
      { ...base, sync: true },
      '/transport',
      /synchronous tool must be served over http/,
    ],
    [
      'annotations that are not booleans',
      { ...base, annotations: { readOnlyHint: 'yes' } },
      '/annotations/readOnlyHint',
      /.+/,
    ],
    ['a repeated tag', { ...base, tags: ['crm', 'crm'] }, '/tags', /listed twice/],
    ['no owner', without('owner'), '/owner', /.+/],
    [
      'a binding with a secret value instead of a name',
      {
        ...base,
        binding: {
          kind: 'http',
          method: 'GET',
          baseUrl: 'https://crm.example.com',
          path: '/x',
          credentialsSecret: 'Bearer abc123/xyz',
        },
      },
      '/binding/credentialsSecret',
      /Kubernetes secret name/,
    ],
  ];

  it.each(cases)('refuses %s', async (_what, body, pointer, message) => {
    const res = await alice.put<{ issues: Issue[]; detail: string; status: number }>(
      RegistryPaths.toolVersion(tool, '1.0.0'),
      body,
    );
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const issue = res.body.issues.find((i) => i.pointer === pointer);
    expect(issue, `${pointer} in ${JSON.stringify(res.body.issues)}`).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('wrote nothing for any of them', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    const res = await alice.get(RegistryPaths.toolVersions(tool));
    expect(res.status).toBe(404);
  });

  it('answers a body that is not JSON with a 400 problem, not a crash', async () => {
    const res = await alice.put(RegistryPaths.toolVersion(tool, '1.0.0'), '{"name": ');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
