import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RegistryPaths } from '@toolbus/contracts';
import { infraFromEnv, issueToken, TEST_JWT_SECRET, uniqueName, waitFor } from '@toolbus/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function run(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [main, ...args], {
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('the registry process', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('registry_e2e').replace(/-/g, '_');
  const base = {
    KAFKA_BROKERS: kafkaBrokers.join(','),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
  };
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('refuses to start on bad configuration, naming each bad variable', async () => {
    const p = run({ ...base, PORT: 'eighty', AUTH_JWT_SECRET: 'short' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('PORT');
    expect(p.output()).toContain('AUTH_JWT_SECRET');
    expect(p.output()).not.toContain('short'); // a secret's value is never echoed
  });

  it('applies its migrations and exits with --migrate-only', async () => {
    const p = run({ ...base, PORT: '0' }, ['--migrate-only']);
    expect(await p.exited).toBe(0);
  });

  it('serves probes and the API, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const p = run({ ...base, PORT: String(port) });
    children.push(p.child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200,
      { timeoutMs: 30_000, what: `registry ready (${p.output()})` },
    );
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
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
