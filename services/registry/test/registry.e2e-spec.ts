import { join } from 'node:path';
import { RegistryPaths } from '@toolbus/contracts';
import {
  infraFromEnv,
  issueToken,
  startServiceProcess,
  TEST_JWT_SECRET,
  uniqueName,
  type ServiceProcess,
} from '@toolbus/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');

describe('the registry process', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('registry_e2e').replace(/-/g, '_');
  const base = {
    KAFKA_BROKERS: kafkaBrokers.join(','),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    AUTH_ALLOW_SHARED_KEY: 'true',
  };
  const processes: ServiceProcess[] = [];
  const run = async (env: Record<string, string>, args: string[] = []) => {
    const p = await startServiceProcess(main, { LOG_LEVEL: 'warn', ...base, ...env }, args);
    processes.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of processes) await p.stop(5_000);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('refuses to start on bad configuration, naming each bad variable', async () => {
    const p = await run({ PORT: 'eighty', AUTH_JWT_SECRET: 'short' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('PORT');
    expect(p.output()).toContain('AUTH_JWT_SECRET');
    expect(p.output()).not.toContain('short'); // a secret's value is never echoed
  });

  it('refuses the shared HS256 key beside a JWKS, and without its explicit switch', async () => {
    const both = await run({ AUTH_JWKS_URL: 'https://login.example.com/jwks.json' });
    expect(await both.exited).toBe(1);
    expect(both.output()).toContain('AUTH_JWKS_URL, AUTH_JWT_SECRET: are both set');
    const unswitched = await run({ AUTH_ALLOW_SHARED_KEY: 'false' });
    expect(await unswitched.exited).toBe(1);
    expect(unswitched.output()).toContain(
      'AUTH_JWT_SECRET: is set, but AUTH_ALLOW_SHARED_KEY is not true',
    );
  });

  it('applies its migrations and exits with --migrate-only', async () => {
    const p = await run({}, ['--migrate-only']);
    expect(await p.exited).toBe(0);
  });

  it('serves probes and the API, and exits 0 on SIGTERM', async () => {
    const p = await run({});
    const url = p.url;
    await p.ready();
    expect((await fetch(`${p.managementUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${p.managementUrl}/metrics`)).status).toBe(200);
    const token = await issueToken({ sub: 'e2e', scopes: ['registry:read'] });
    const page = await fetch(`${url}${RegistryPaths.tools}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(page.status).toBe(200);
    expect(await page.json()).toMatchObject({ items: expect.any(Array) });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
