import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Messages,
  RegistryPaths,
  type ImportDiff,
  type ToolCallCompleted,
} from '@toolbus/contracts';
import {
  infraFromEnv,
  issueToken,
  startMcpHttpServer,
  startServiceProcess,
  TEST_JWT_SECRET,
  toolCall,
  uniqueName,
  type ServiceProcess,
} from '@toolbus/testing';
import { grantEnv, startToolCaller } from '@toolbus/testing-bus';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');
/** The registry's build; this project's e2e target builds it first (implicitDependencies). */
const REGISTRY_MAIN = join(import.meta.dirname, '..', '..', '..', 'registry', 'dist', 'main.js');

/** The built bridge as an operator runs it, fed by the real registry. */
describe('mcp-bridge process', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('mcp_bridge_e2e').replace(/-/g, '_');
  const processes: ServiceProcess[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    for (const cleanup of cleanups) await cleanup();
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    for (const s of [schema, `${schema}_registry`])
      await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db.end();
  });
  const start = async (main: string, env: Record<string, string>, args: string[] = []) => {
    const p = await startServiceProcess(main, { LOG_LEVEL: 'warn', ...env }, args);
    processes.push(p);
    return p;
  };

  it('refuses to start without REGISTRY_URL, naming it', async () => {
    const p = await start(MAIN, { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('REGISTRY_URL');
  });

  it('applies its migrations with --migrate-only, without a registry', async () => {
    const p = await start(
      MAIN,
      { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, REGISTRY_URL: 'http://127.0.0.1:9' },
      ['--migrate-only'],
    );
    expect(await p.exited).toBe(0);
  });

  it('runs an approved tool of an upstream registered in the real registry, with only the secret going upstream', async () => {
    const upstreamToken = 'mcp-upstream-secret-42';
    const upstream = await startMcpHttpServer({ token: upstreamToken });
    cleanups.push(() => upstream.close());
    const secrets = await mkdtemp(join(tmpdir(), 'bridge-secrets-'));
    cleanups.push(() => rm(secrets, { recursive: true, force: true }));
    await mkdir(join(secrets, 'docs-mcp'));
    await writeFile(join(secrets, 'docs-mcp', 'token'), upstreamToken);

    const registry = await start(REGISTRY_MAIN, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: `${schema}_registry`,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_ALLOW_SHARED_KEY: 'true',
      CREDENTIAL_ORIGINS: JSON.stringify({ 'docs-mcp': [new URL(upstream.url).origin] }),
      SECRETS_DIR: secrets,
    });
    await registry.ready();
    const api = async (token: string, path: string, body?: unknown) => {
      const response = await fetch(`${registry.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const admin = await issueToken({
      sub: 'platform-admin',
      scopes: ['registry:admin', 'registry:read'],
      teams: ['team-docs'],
    });
    const approver = await issueToken({
      sub: 'reviewer',
      scopes: ['registry:approve', 'registry:read'],
    });
    const prefix = `${uniqueName('docs').replace(/-/g, '_').slice(0, 24)}_`;
    const registered = await api(admin, RegistryPaths.upstreams, {
      name: uniqueName('docs').slice(0, 40),
      transport: { kind: 'streamable_http', url: upstream.url },
      credentialsSecret: 'docs-mcp',
      prefix,
      owner: 'team-docs',
      region: 'eu',
      scopes: ['docs:read'],
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const diff = registered.body['diff'] as ImportDiff;
    const add = diff.added.find((t) => t.name === `${prefix}add`)!;
    expect(
      (await api(approver, RegistryPaths.lifecycle(add.name, add.version!, 'approve'))).status,
    ).toBe(200);

    const bridge = await start(MAIN, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      REGISTRY_URL: registry.url,
      REGISTRY_TOKEN: await issueToken({
        sub: 'mcp-bridge',
        kind: 'service',
        scopes: ['registry:read', 'registry:catalog'],
      }),
      SECRETS_DIR: secrets,
      LOG_LEVEL: 'info',
      ...grantEnv(),
    });
    await bridge.ready();

    const caller = await startToolCaller({ name: 'e2e-caller' });
    try {
      const reply = await caller.call(
        'mcp-bridge',
        toolCall(
          add.name,
          { a: 2, b: 40 },
          {
            deadlineMs: 30_000,
            principal: { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['docs:read'] },
          },
        ),
        // A caller's credentials riding along must never reach the upstream.
        { headers: { authorization: 'Bearer callers-own-token' }, timeoutMs: 30_000 },
      );
      expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.toolCallCompleted.type);
      expect((reply.value as ToolCallCompleted).output).toMatchObject({ sum: 42 });
    } finally {
      await caller.close();
    }
    const called = upstream.requests.filter((r) => r.tool === 'add');
    expect(called.length).toBe(1);
    expect(new Set(upstream.requests.map((r) => r.authorization))).toEqual(
      new Set([`Bearer ${upstreamToken}`]),
    );
    expect(JSON.stringify(upstream.requests)).not.toContain('callers-own-token');

    expect(await bridge.stop()).toBe(0);
    expect(bridge.output()).toContain('mcp-bridge shutting down');
    expect(bridge.output()).not.toContain(upstreamToken);
    expect(await registry.stop()).toBe(0);
  });
});
