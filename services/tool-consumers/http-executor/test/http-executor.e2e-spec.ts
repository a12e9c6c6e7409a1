import {
  Messages,
  RegistryPaths,
  type ImportDiff,
  type ToolCallCompleted,
} from '@toolbus/contracts';
import { join } from 'node:path';
import {
  infraFromEnv,
  issueToken,
  startServiceProcess,
  TEST_JWT_SECRET,
  toolCall,
  uniqueName,
  waitFor,
} from '@toolbus/testing';
import { grantEnv, startToolCaller } from '@toolbus/testing-bus';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startConsumerProcess, type ConsumerProcess } from './consumer-process.js';
import { secretsDir } from './http-tools.js';
import { sendJson, startUpstream } from './upstream-server.js';

/** The registry's build; this project's e2e target builds it first (implicitDependencies). */
const REGISTRY_MAIN = join(import.meta.dirname, '..', '..', '..', 'registry', 'dist', 'main.js');

/** The built service as an operator runs it: a process, its env, its probes, SIGTERM. */
describe('http-executor process', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('http_exec_e2e').replace(/-/g, '_');
  const processes: ConsumerProcess[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  const janitorDrop = async (name: string) => {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await db.end();
  };
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    for (const cleanup of cleanups) await cleanup();
    await janitorDrop(schema);
  });
  const start = async (env: Record<string, string>, args: string[] = []) => {
    const p = await startConsumerProcess(env, args);
    processes.push(p);
    return p;
  };

  it('refuses to start without REGISTRY_URL, naming it', async () => {
    const p = await start({ HTTP_RETRY_ATTEMPTS: 'many' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('http-executor: invalid configuration:');
    expect(p.output()).toContain('REGISTRY_URL: is required: Registry base URL');
    expect(p.output()).toContain(
      'HTTP_RETRY_ATTEMPTS: invalid value "many": must be a whole number',
    );
    expect(p.output()).not.toContain('    at ');
  });

  it('applies its migrations with --migrate-only and exits, without a registry', async () => {
    const p = await start(
      {
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: schema,
        // Nothing listens here: the migration Job runs before the registry on a fresh install.
        REGISTRY_URL: 'http://127.0.0.1:9',
        LOG_LEVEL: 'info',
      },
      ['--migrate-only'],
    );
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('migrations applied; exiting (--migrate-only)');
    expect(p.output()).not.toContain('registry snapshot');
  });

  it('runs a tool imported into the real registry, follows a new approved version, and exits 0 on SIGTERM', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    upstream.reset((request, response) =>
      request.headers['x-api-key'] !== 'e2e-key'
        ? sendJson(response, 401, { error: 'no key' })
        : request.path === '/v2/stock'
          ? sendJson(response, 200, { sku: request.query.get('sku'), in_stock: 9, warehouse: 'b' })
          : sendJson(response, 200, { sku: request.query.get('sku'), in_stock: 7 }),
    );
    const secrets = await secretsDir();
    cleanups.push(() => secrets.remove());
    await secrets.put('erp-api', { api_key: 'e2e-key' });

    const registrySchema = `${schema}_registry`;
    const registry = await startServiceProcess(REGISTRY_MAIN, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: registrySchema,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_ALLOW_SHARED_KEY: 'true',
      CREDENTIAL_ORIGINS: JSON.stringify({ 'erp-api': [new URL(upstream.url).origin] }),
      LOG_LEVEL: 'warn',
    });
    processes.push(registry);
    cleanups.push(() => janitorDrop(registrySchema));
    await registry.ready();
    const importer = await issueToken({
      sub: 'integrator',
      scopes: ['registry:write', 'registry:read'],
      teams: ['team-erp'],
    });
    const approver = await issueToken({
      sub: 'reviewer',
      scopes: ['registry:approve', 'registry:read'],
    });
    const api = async (token: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${registry.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const prefix = `${uniqueName('erp').replace(/-/g, '_').slice(0, 20)}_`;
    const importDoc = async (path: string) => {
      const res = await api(importer, 'POST', RegistryPaths.importOpenApi, {
        source: 'erp-stock-e2e',
        namePrefix: prefix,
        owner: 'team-erp',
        region: 'eu',
        baseUrl: upstream.url,
        credentialsSecret: 'erp-api',
        document: stockApi(path),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const diff = res.body as unknown as ImportDiff;
      const drafted = [...diff.added, ...diff.changed][0]!;
      const approved = await api(
        approver,
        'POST',
        RegistryPaths.lifecycle(drafted.name, drafted.version!, 'approve'),
      );
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      return drafted;
    };
    const first = await importDoc('/stock');
    expect(first.version).toBe('1.0.0');

    const p = await start({
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      REGISTRY_URL: registry.url,
      REGISTRY_TOKEN: await issueToken({
        sub: 'http-executor',
        kind: 'service',
        scopes: ['registry:read', 'registry:catalog'],
      }),
      SECRETS_DIR: secrets.dir,
      LOG_LEVEL: 'info',
      ...grantEnv(),
    });
    await p.ready();

    // The caller holds the scopes the import gave the tool: the executor checks them on the grant.
    const scopes = (
      (await (
        await fetch(`${registry.url}${RegistryPaths.tool(first.name)}`, {
          headers: { authorization: `Bearer ${importer}` },
        })
      ).json()) as { scopes: string[] }
    ).scopes;
    const caller = await startToolCaller({ name: 'e2e-caller' });
    const principal = { subject: 'alice', kind: 'user' as const, tenant: 'acme', scopes };
    const call = () =>
      caller.call(
        'http-executor',
        toolCall(first.name, { sku: 'A-100' }, { deadlineMs: 30_000, principal }),
        { timeoutMs: 30_000 },
      );
    try {
      const reply = await call();
      expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.toolCallCompleted.type);
      expect((reply.value as ToolCallCompleted).output).toEqual({ sku: 'A-100', in_stock: 7 });

      // A changed document, re-imported and approved: the running executor learns of 1.1.0 from
      // the change event (it never polls) and calls the new path.
      const second = await importDoc('/v2/stock');
      expect(second).toMatchObject({ name: first.name, version: '1.1.0' });
      await waitFor(
        async () => {
          const r = await call();
          return (r.value as ToolCallCompleted).output !== undefined &&
            (r.value as ToolCallCompleted as { output: { warehouse?: string } }).output
              .warehouse === 'b'
            ? r
            : undefined;
        },
        { timeoutMs: 20_000, what: 'the executor to call the approved 1.1.0' },
      );
    } finally {
      await caller.close();
    }
    expect(upstream.requests.every((r) => r.headers['x-api-key'] === 'e2e-key')).toBe(true);

    expect(await p.stop()).toBe(0);
    expect(p.output()).toContain('http-executor shutting down');
    expect(p.output()).not.toContain('e2e-key');
    expect(await registry.stop()).toBe(0);
  });

  /** A one-operation stock API whose path the test changes between imports. */
  function stockApi(path: string): string {
    return [
      'openapi: 3.0.3',
      'info: { title: Stock, version: "1" }',
      'components:',
      '  securitySchemes:',
      '    key: { type: apiKey, in: header, name: X-Api-Key }',
      'security: [ { key: [] } ]',
      'paths:',
      `  ${path}:`,
      '    get:',
      '      operationId: getStock',
      '      summary: Units in stock for a SKU',
      '      parameters:',
      '        - { name: sku, in: query, required: true, schema: { type: string } }',
      '      responses:',
      "        '200':",
      '          description: Stock level',
      '          content:',
      '            application/json:',
      '              schema:',
      '                type: object',
      '                required: [sku, in_stock]',
      '                properties:',
      '                  sku: { type: string }',
      '                  in_stock: { type: integer }',
      '                  warehouse: { type: string }',
    ].join('\n');
  }
});
