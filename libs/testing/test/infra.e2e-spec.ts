import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { infraFromEnv } from '../src/index.js';

const run = promisify(execFile);
const script = join(import.meta.dirname, '..', '..', '..', 'scripts', 'infra.sh');

/** The infrastructure scripts as a developer uses them, against what `make test` started. */
describe('scripts/infra.sh', () => {
  it('reports all three servers up on 127.0.0.1', async () => {
    const { stdout } = await run('bash', [script, 'status']);
    expect(stdout).toMatch(/^postgres\s+up\s+127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^redis\s+up\s+127\.0\.0\.1:\d+$/m);
    // The broker also listens with SASL_SSL and with client certificates (TLS tests).
    expect(stdout).toMatch(/^kafka\s+up\s+127\.0\.0\.1:\d+ \(SASL_SSL \d+, MTLS \d+\)$/m);
  });

  it('prints the same connection variables the tests received', async () => {
    const { stdout } = await run('bash', [script, 'env']);
    const vars = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    const infra = infraFromEnv();
    expect(vars['KAFKA_BROKERS']).toBe(infra.kafkaBrokers.join(','));
    expect(vars['DATABASE_URL']).toBe(infra.databaseUrl);
    expect(vars['REDIS_URL']).toBe(infra.redisUrl);
  });

  it('is a no-op when asked to start what is already up', async () => {
    const started = Date.now();
    const { stderr } = await run('bash', [script, 'up']);
    expect(stderr).toContain('postgres already up');
    expect(stderr).toContain('redis already up');
    expect(stderr).toContain('kafka already up');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('serves a real PostgreSQL and Redis at those addresses', async () => {
    const { databaseUrl, redisUrl } = infraFromEnv();
    const pg = await run('psql', [
      databaseUrl,
      '-tAc',
      'select current_setting($$server_version_num$$)::int >= 150000',
    ]);
    expect(pg.stdout.trim()).toBe('t');
    const url = new URL(redisUrl);
    const redis = await run('redis-cli', ['-h', url.hostname, '-p', url.port, 'ping']);
    expect(redis.stdout.trim()).toBe('PONG');
  });

  it('rejects an unknown command with its usage', async () => {
    const error = await run('bash', [script, 'explode']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('usage:');
  });
});
