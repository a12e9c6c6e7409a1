import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RegistryPaths,
  type ImportDiff,
  type ToolPage,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import { uniqueName } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  definition,
  startTestRegistry,
  type Client,
  type TestRegistry,
} from './support.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'openapi');
const read = (file: string) => readFileSync(join(fixtures, file), 'utf8');

interface InvalidCase {
  file: string;
  pointer: string;
  message: string;
}
const invalid = JSON.parse(read('invalid/cases.json')) as {
  options: Record<string, unknown>;
  cases: InvalidCase[];
};

describe('OpenAPI import on PostgreSQL and Kafka', () => {
  let t: TestRegistry;
  let importer: Client;
  let approver: Client;

  beforeAll(async () => {
    t = await startTestRegistry();
    importer = await client(
      t.url,
      'importer',
      ['registry:write', 'registry:read', 'registry:approve'],
      { teams: ['team-integrations', 'team-other', 'inventory-team'] },
    );
    approver = await client(t.url, 'approver', ['registry:approve', 'registry:read']);
  });
  afterAll(() => t?.close());

  const request = (
    file: string,
    source: string,
    prefix: string,
    extra: Record<string, unknown> = {},
  ) => ({
    source,
    document: read(file),
    owner: 'team-integrations',
    region: 'eu',
    namePrefix: prefix,
    credentialsSecret: 'crm-api-credentials',
    // The support API's document names a relative server, as many do.
    ...(file.startsWith('support') ? { baseUrl: 'https://support.example.com/api' } : {}),
    ...extra,
  });
  const drafts = async (prefix: string) =>
    (await importer.get<ToolPage>(`${RegistryPaths.tools}?status=draft&q=${prefix}&limit=100`)).body
      .items;

  it.each(['crm-api.yaml', 'billing-api.json', 'support-api.yaml'])(
    'imports %s as one draft per operation, each executable by the http-executor',
    async (file) => {
      const prefix = `${uniqueName('i').replace(/-/g, '_').slice(0, 20)}_`;
      const res = await importer.post<ImportDiff>(
        RegistryPaths.importOpenApi,
        request(file, uniqueName('src'), prefix),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.added.length).toBeGreaterThanOrEqual(4);
      expect(res.body.changed).toEqual([]);
      expect(res.body.removed).toEqual([]);
      const created = await drafts(prefix);
      expect(created.map((d) => d.name).sort()).toEqual(res.body.added.map((a) => a.name).sort());
      for (const d of created) {
        expect(d).toMatchObject({
          version: '1.0.0',
          status: 'draft',
          author: 'importer',
          owner: 'team-integrations',
          transport: { kind: 'kafka', topic: 'tool_requests.http-executor' },
          source: { kind: 'openapi' },
        });
        expect(d.name.startsWith(prefix)).toBe(true);
        expect(d.inputSchema['type']).toBe('object');
        expect(d.binding?.kind).toBe('http');
        // The credentials are a reference to a secret, never a value.
        if (d.binding?.kind === 'http' && d.binding.auth)
          expect(d.binding.credentialsSecret).toBe('crm-api-credentials');
        const method = d.binding?.kind === 'http' ? d.binding.method : '';
        if (method === 'GET')
          expect(d.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
        if (method === 'POST' && !d.annotations.readOnlyHint)
          expect(d.annotations.idempotentHint).toBe(false);
      }
    },
  );

  it('re-imports: unchanged tools stay, changed ones get a new draft version, removed ones are reported', async () => {
    const prefix = `${uniqueName('r').replace(/-/g, '_').slice(0, 20)}_`;
    const source = uniqueName('crm');
    const first = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('crm-api.yaml', source, prefix),
    );
    expect(first.status).toBe(200);

    const same = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('crm-api.yaml', source, prefix),
    );
    expect(same.body.added).toEqual([]);
    expect(same.body.changed).toEqual([]);
    expect(same.body.unchanged.length).toBe(first.body.added.length);

    const preview = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('crm-api-v2.yaml', source, prefix, { dryRun: true }),
    );
    expect(preview.body.dryRun).toBe(true);
    expect(preview.body.added).toHaveLength(1);
    expect(preview.body.changed).toHaveLength(1);
    expect(preview.body.removed).toHaveLength(1);
    expect(preview.body.changed[0]!.version).toBeNull();
    const beforeCount = (await drafts(prefix)).length;

    const second = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('crm-api-v2.yaml', source, prefix),
    );
    expect(second.status).toBe(200);
    expect({
      ...second.body,
      dryRun: true,
      added: second.body.added.map((a) => a.name),
      changed: second.body.changed.map((c) => c.name),
    }).toMatchObject({
      added: preview.body.added.map((a) => a.name),
      changed: preview.body.changed.map((c) => c.name),
      removed: preview.body.removed,
    });
    expect(second.body.changed[0]!.version).toBe('1.1.0');
    expect(second.body.added[0]!.version).toBe('1.0.0');
    expect(second.body.unchanged.length).toBe(first.body.added.length - 2);
    // Exactly two new drafts: the added tool and the changed tool's 1.1.0.
    expect((await drafts(prefix)).length).toBe(beforeCount + 2);
    const changed = second.body.changed[0]!.name;
    const versions = await importer.get<{ items: ToolVersionRecord[] }>(
      RegistryPaths.toolVersions(changed),
    );
    expect(versions.body.items.map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
  });

  it('leaves nothing half-written when an import fails part-way', async () => {
    const prefix = `${uniqueName('a').replace(/-/g, '_').slice(0, 20)}_`;
    const source = uniqueName('billing');
    const preview = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('billing-api.json', source, prefix, { dryRun: true }),
    );
    const names = preview.body.added.map((a) => a.name);
    expect(names.length).toBeGreaterThan(2);
    // Another team already owns the name the last operation would take.
    const taken = names[names.length - 1]!;
    const owned = await importer.put(
      RegistryPaths.toolVersion(taken, '1.0.0'),
      definition(taken, { owner: 'team-other' }),
    );
    expect(owned.status).toBe(201);

    const res = await importer.post(
      RegistryPaths.importOpenApi,
      request('billing-api.json', source, prefix),
    );
    expect(res.status).toBe(409);
    expect(res.body['detail']).toContain(`"${taken}" belongs to team "team-other"`);
    const left = (await drafts(prefix)).map((d) => d.name);
    expect(left).toEqual([taken]); // only the other team's own version
    // The source was not recorded either: a retry after the conflict is fixed is a fresh import.
    const retry = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('billing-api.json', source, prefix, { dryRun: true }),
    );
    expect(retry.body.added.length).toBe(names.length);
  });

  it('serves an imported tool once someone else approves it', async () => {
    const prefix = `${uniqueName('s').replace(/-/g, '_').slice(0, 20)}_`;
    const res = await importer.post<ImportDiff>(
      RegistryPaths.importOpenApi,
      request('support-api.yaml', uniqueName('sup'), prefix),
    );
    const tool = res.body.added[0]!;
    expect(
      (await importer.post(RegistryPaths.lifecycle(tool.name, '1.0.0', 'approve'))).status,
    ).toBe(403);
    expect(
      (await approver.post(RegistryPaths.lifecycle(tool.name, '1.0.0', 'approve'))).status,
    ).toBe(200);
    const served = await importer.get<ToolVersionRecord>(RegistryPaths.tool(tool.name));
    expect(served.body).toMatchObject({
      name: tool.name,
      status: 'approved',
      approvedBy: 'approver',
    });
  });

  it('refuses a request without a source or owner, naming the fields', async () => {
    const res = await importer.post(RegistryPaths.importOpenApi, {
      document: read('crm-api.yaml'),
      region: 'eu',
    });
    expect(res.status).toBe(422);
    const pointers = (res.body['issues'] as Array<{ pointer: string }>).map((i) => i.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/source', '/owner']));
  });

  it('refuses, dry run or not, an operation whose schema the registry cannot compile, pointing at it', async () => {
    // OpenAPI 3.1 lets a Schema Object be any JSON Schema, so only the registry's own
    // validation catches a type that does not exist.
    const document = [
      'openapi: 3.1.0',
      'info: { title: Items, version: "1" }',
      'servers: [ { url: "https://items.example.com" } ]',
      'paths:',
      '  /items:',
      '    get:',
      '      operationId: listItems',
      '      parameters:',
      '        - { name: kind, in: query, schema: { type: strin } }',
      "      responses: { '204': { description: none } }",
    ].join('\n');
    for (const dryRun of [true, false]) {
      const res = await importer.post(RegistryPaths.importOpenApi, {
        ...invalid.options,
        source: uniqueName('uncompilable'),
        document,
        dryRun,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      const issues = res.body['issues'] as Array<{ pointer: string; message: string }>;
      expect(issues[0]!.pointer).toBe('/document/paths/~1items/get');
      expect(issues[0]!.message).toMatch(/^GET \/items: \/inputSchema does not compile/);
    }
  });

  it.each(invalid.cases.map((c) => [c.file, c] as const))(
    'refuses the broken document %s with a 422 pointing at the problem, writing nothing',
    async (_file, c) => {
      const source = uniqueName('bad');
      const res = await importer.post(RegistryPaths.importOpenApi, {
        ...invalid.options,
        source,
        document: read(`invalid/${c.file}`),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const issues = res.body['issues'] as Array<{ pointer: string; message: string }>;
      const expected = c.pointer === '/' ? '/document' : `/document${c.pointer}`;
      const issue = issues.find((i) => i.pointer === expected);
      expect(issue, `${expected} in ${JSON.stringify(issues)}`).toBeDefined();
      expect(issue!.message).toContain(c.message);
      const recorded = await importer.post<ImportDiff>(RegistryPaths.importOpenApi, {
        ...invalid.options,
        source,
        document: read('crm-api.yaml'),
        dryRun: true,
      });
      expect(recorded.body.unchanged).toEqual([]); // the failed import left no source record
    },
  );
});
