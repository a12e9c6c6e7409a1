import { Messages, type ToolCallRequested } from '@toolbus/contracts';
import { openDatabase } from '@toolbus/persistence';
import { completedOf, infraFromEnv, uniqueName } from '@toolbus/testing';
import { grantEnv, startToolCaller } from '@toolbus/testing-bus';
import { afterAll, describe, expect, it } from 'vitest';
import { startConsumerProcess, type ConsumerProcess } from './consumer-process.js';

/** The built service as an operator runs it: a process, its env, its probes, SIGTERM. */
describe('crm consumer process', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('crm_e2e').replace(/-/g, '_');
  const processes: ConsumerProcess[] = [];
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    const db = await openDatabase({ url: databaseUrl, schema, migrations: [] });
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.destroy();
  });
  const start = async (env: Record<string, string>) => {
    const p = await startConsumerProcess(env);
    processes.push(p);
    return p;
  };

  it('refuses to start on bad configuration, naming each bad variable', async () => {
    const p = await start({ CRM_MAX_CREDIT_LIMIT: 'ten million', TOOL_CONCURRENCY: '0' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('crm: invalid configuration:');
    expect(p.output()).toContain(
      'CRM_MAX_CREDIT_LIMIT: invalid value "ten million": must be a whole number',
    );
    expect(p.output()).toContain('TOOL_CONCURRENCY: invalid value "0": must be at least 1');
    expect(p.output()).not.toContain('    at '); // no stack trace for an operator's mistake
    const q = await start({ DATABASE_URL: 'mysql://db.internal/crm' });
    expect(await q.exited).toBe(1);
    expect(q.output()).toContain('database URL must start with postgres:// or pglite://');
    // No keys to verify call grants with: it refuses to start rather than trust every call.
    const r = await start({ DATABASE_URL: 'pglite://memory' });
    expect(await r.exited).toBe(1);
    expect(r.output()).toContain('CALL_GRANT_JWKS_FILE: is required (or CALL_GRANT_JWKS_URL)');
    expect(r.output()).not.toContain('    at ');
  });

  it('serves probes and metrics, answers over Kafka, and exits 0 on SIGTERM', async () => {
    const p = await start({
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      LOG_LEVEL: 'warn',
      ...grantEnv(),
    });
    await p.ready();
    expect(await (await fetch(`${p.managementUrl}/health/live`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${p.managementUrl}/health/ready`)).json()).toEqual({
      status: 'ok',
      checks: { kafka: 'up', postgres: 'up' },
    });

    const caller = await startToolCaller({ name: 'e2e-caller' });
    try {
      const call: ToolCallRequested = {
        callId: uniqueName('call'),
        idempotencyKey: uniqueName('key'),
        tool: 'get_credit_limit',
        input: { customer_id: 'cus_001' },
        principal: { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['crm:read'] },
        tenant: 'acme',
        region: 'eu',
        deadline: new Date(Date.now() + 30_000).toISOString(),
        attempt: 1,
      };
      const reply = await caller.call('crm', call, { timeoutMs: 30_000 });
      expect(reply.event.type).toBe(Messages.toolCallCompleted.type);
      expect(completedOf(reply).output).toEqual({
        customer_id: 'cus_001',
        name: 'Acme Corp',
        credit_limit: 50_000,
        currency: 'USD',
      });
    } finally {
      await caller.close();
    }
    const metrics = await (await fetch(`${p.managementUrl}/metrics`)).text();
    expect(metrics).toContain(
      'toolbus_tool_calls_total{service="crm",tool="get_credit_limit",outcome="succeeded"} 1',
    );
    expect(metrics).toMatch(
      /toolbus_tool_duration_seconds_count\{service="crm",tool="get_credit_limit",transport="kafka"\} 1/,
    );

    expect(await p.stop()).toBe(0);
  });
});
