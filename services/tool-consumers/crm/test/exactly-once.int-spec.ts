import { randomUUID } from 'node:crypto';
import { Messages, ToolCallCompleted, type ToolCallRequested } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { openDatabase, type DataSource } from '@toolbus/persistence';
import { infraFromEnv, uniqueName } from '@toolbus/testing';
import { grantEnv, startToolCaller, type ToolAnswer, type ToolCaller } from '@toolbus/testing-bus';
import { toolSdkMigrations } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmMigrations } from '../src/index.js';
import { startConsumerProcess, type ConsumerProcess } from './consumer-process.js';

/**
 * The crash this guards against: a consumer commits a credit-limit change and dies before it
 * answers or commits its Kafka offset. Kafka redelivers the call to another instance, the caller
 * retries, a duplicate arrives; the change must still happen once and every answer must agree.
 */
describe('update_credit_limit delivered five times across a consumer crash (real Kafka, PostgreSQL, processes)', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  // Every run gets its own schema; the processes share it, as replicas of one service do.
  const schema = uniqueName('crm_once').replace(/-/g, '_');
  const logger = createLogger({
    name: 'crm-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  const processes: ConsumerProcess[] = [];
  let db: DataSource;
  let caller: ToolCaller;

  const consumerEnv = (extra: Record<string, string> = {}) => ({
    KAFKA_BROKERS: kafkaBrokers.join(','),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    LOG_LEVEL: 'warn',
    // A dead member's partitions move on after this; it bounds how long the redelivery waits.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...grantEnv(),
    ...extra,
  });

  beforeAll(async () => {
    db = await openDatabase({
      url: databaseUrl,
      schema,
      migrations: [...toolSdkMigrations, ...crmMigrations],
    });
    caller = await startToolCaller({ logger, name: 'crm-caller' });
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await caller?.close();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db?.destroy();
  });

  const send = (call: ToolCallRequested, eventId?: string): Promise<ToolAnswer> =>
    // The first answer waits for the dead member's session to time out and a rebalance.
    caller.call('crm', call, { timeoutMs: 60_000, eventId });
  const start = async (extra: Record<string, string> = {}) => {
    const p = await startConsumerProcess(consumerEnv(extra));
    processes.push(p);
    return p;
  };
  const historyFor = async (key: string) =>
    (await db.query('SELECT * FROM account_history WHERE idempotency_key = $1', [key])) as Array<
      Record<string, unknown>
    >;
  const dedupFor = async (key: string) =>
    (
      (await db.query(
        'SELECT status, attempts, result FROM tool_call_dedup WHERE idempotency_key = $1',
        [key],
      )) as Array<{ status: string; attempts: number; result: unknown }>
    )[0];

  it('leaves one history row and one final limit, and answers every delivery with the same result', async () => {
    const key = uniqueName('credit-review');
    const eventId = randomUUID();
    const original: ToolCallRequested = {
      callId: 'call-original',
      idempotencyKey: key,
      tool: 'update_credit_limit',
      input: {
        customer_id: 'cus_001',
        new_limit: 75_000,
        reason: 'annual review: two years of on-time payments',
      },
      principal: {
        subject: 'alice@acme.example',
        kind: 'user',
        tenant: 'acme',
        scopes: ['crm:write'],
      },
      tenant: 'acme',
      region: 'eu',
      deadline: new Date(Date.now() + 100_000).toISOString(),
      attempt: 1,
    };

    // (a) The first delivery reaches a process that dies right after its transaction commits.
    const crashing = await start({
      TOOLBUS_TEST_MODE: 'true',
      TOOLBUS_FAILPOINT: 'exit-after-commit',
    });
    await crashing.ready();
    let answeredBeforeCrash = false;
    const firstAnswer = send(original, eventId).then((answer) => {
      answeredBeforeCrash = crashing.child.exitCode === null;
      return answer;
    });
    expect(await crashing.exited).toBe(137);
    expect(answeredBeforeCrash).toBe(false);
    const [committed] = await historyFor(key);
    expect(committed).toMatchObject({ account_id: 'cus_001', old_value: '50000.00' });
    expect(await dedupFor(key)).toMatchObject({ status: 'completed', attempts: 1 });

    // (b) Kafka redelivers the uncommitted message to the next instance, which answers the
    // caller still waiting on its first request.
    const survivor = await start();
    await survivor.ready();
    const redelivered = await firstAnswer;

    // (c) The caller retries twice with the same key (new call ids, later attempts).
    const retries: ToolAnswer[] = [];
    for (const attempt of [2, 3])
      retries.push(
        await send({
          ...original,
          callId: `call-retry-${attempt}`,
          attempt,
          deadline: new Date(Date.now() + 30_000).toISOString(),
        }),
      );

    // (d) The very same message once more: same event id, same body (a duplicate delivery).
    const duplicate = await send(original, eventId);

    const answers = [redelivered, ...retries, duplicate];
    const expected = {
      customer_id: 'cus_001',
      old_limit: 50_000,
      new_limit: 75_000,
      currency: 'USD',
      history_id: committed!['id'],
    };
    expect(answers.map((a) => a.event.type)).toEqual(
      Array(4).fill(Messages.toolCallCompleted.type),
    );
    const completed = answers.map((a) => ToolCallCompleted.parse(a.value));
    expect(completed.map((c) => c.callId)).toEqual([
      'call-original',
      'call-retry-2',
      'call-retry-3',
      'call-original',
    ]);
    for (const c of completed) {
      expect(c.output).toEqual(expected);
      // The effect was committed by the process that crashed; every answer is the stored result.
      expect(c.deduplicated).toBe(true);
    }

    // One effect: one history row for the key, none other for the account, the new limit.
    expect(await historyFor(key)).toEqual([
      expect.objectContaining({
        id: expected.history_id,
        new_value: '75000.00',
        changed_by: 'alice@acme.example',
        reason: 'annual review: two years of on-time payments',
      }),
    ]);
    expect(
      await db.query('SELECT count(*)::int AS n FROM account_history WHERE account_id = $1', [
        'cus_001',
      ]),
    ).toEqual([{ n: 1 }]);
    expect(await db.query('SELECT credit_limit FROM accounts WHERE id = $1', ['cus_001'])).toEqual([
      { credit_limit: '75000.00' },
    ]);
    expect(await dedupFor(key)).toEqual({ status: 'completed', attempts: 1, result: expected });

    // The survivor handled the four later deliveries, all from the dedup record.
    const metrics = await (await fetch(`${survivor.managementUrl}/metrics`)).text();
    expect(metrics).toContain(
      'toolbus_tool_calls_total{service="crm",tool="update_credit_limit",outcome="deduplicated"} 4',
    );
    expect(metrics).not.toContain('tool="update_credit_limit",outcome="succeeded"');

    expect(await survivor.stop()).toBe(0);
  });
});
