import { Messages, type ToolCallRequested } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { completedOf, failureOf, toolCall, uniqueName, waitFor } from '@toolbus/testing';
import { consumerTestEnv, startToolCaller, type ToolCaller } from '@toolbus/testing-bus';
import { runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmMigrations, crmTools } from '../src/index.js';

describe('CRM tools over Kafka on PostgreSQL: failures the model must be able to read', () => {
  // Its own topic and schema: nothing else in the run can take these calls or see these rows.
  const service = uniqueName('crm-it');
  const schema = service.replace(/-/g, '_');
  const logger = createLogger({
    name: 'crm-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service,
        tools: crmTools({ CRM_MAX_CREDIT_LIMIT: 10_000_000 }),
        migrations: crmMigrations,
      },
      {
        env: consumerTestEnv(schema),
        logger,
      },
    );
    caller = await startToolCaller({ logger, name: 'crm-caller' });
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await consumer?.close();
  });

  const call = (
    tool: string,
    input: Record<string, unknown>,
    options: { key?: string; deadlineMs?: number } = {},
  ): ToolCallRequested =>
    toolCall(tool, input, {
      ...options,
      principal: {
        subject: 'bob@acme.example',
        kind: 'user',
        tenant: 'acme',
        scopes: ['crm:read', 'crm:write'],
      },
    });
  const send = (c: ToolCallRequested) => caller.call(service, c, { timeoutMs: 30_000 });
  const query = async <T>(sql: string, params: unknown[] = []) =>
    (await consumer.db.query(sql, params)) as T[];
  const limitOf = async (id: string) =>
    (
      await query<{ credit_limit: string }>('SELECT credit_limit FROM accounts WHERE id = $1', [id])
    )[0]!.credit_limit;
  const historyCount = async (where: string, param: string) =>
    (
      await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM account_history WHERE ${where} = $1`,
        [param],
      )
    )[0]!.n;

  it('names every bad field of update_credit_limit, and writes nothing', async () => {
    const error = failureOf(
      await send(
        call('update_credit_limit', { customer_id: 'cus_002', new_limit: -250, reason: ' ' }),
      ),
    );
    expect(error).toMatchObject({ class: 'validation', code: 'invalid_input', retryable: false });
    expect(error.issues?.map((i) => i.pointer)).toEqual(['/new_limit', '/reason']);
    expect(error.message).toBe(
      'invalid input for update_credit_limit: /new_limit must be 0 or more: a credit limit cannot be negative; /reason must say why, in at least 5 characters',
    );
    expect(await historyCount('account_id', 'cus_002')).toBe(0);
  });

  it('answers a call stuck behind a row lock past its deadline as a timeout, with no effect', async () => {
    // Someone else (a credit manager in the CRM's UI, say) holds the account row.
    const holder = consumer.db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT 1 FROM accounts WHERE id = 'cus_003' FOR UPDATE`);
      const [{ pid }] = (await holder.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
      const blockedByHolder = async () =>
        (
          await query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [pid],
          )
        )[0]!.n;
      const key = uniqueName('key');
      const input = { customer_id: 'cus_003', new_limit: 80_000, reason: 'quarterly review' };
      const answer = send(call('update_credit_limit', input, { key, deadlineMs: 2_500 }));
      await waitFor(async () => (await blockedByHolder()) === 1, {
        what: 'the handler to wait for the row lock',
        timeoutMs: 15_000,
      });
      expect(failureOf(await answer)).toEqual({
        class: 'timeout',
        code: 'deadline_exceeded',
        message:
          'update_credit_limit did not finish before its deadline; any late result was discarded',
        retryable: true,
      });
      // The database gives the late statement up just after the deadline, lock still held.
      await waitFor(async () => (await blockedByHolder()) === 0, {
        what: 'PostgreSQL to cancel the late statement',
        timeoutMs: 10_000,
      });
      await holder.commitTransaction();
      expect(await limitOf('cus_003')).toBe('75000.00');
      expect(await historyCount('idempotency_key', key)).toBe(0);
      // The claim was released, so a retry with the same key runs the change, once.
      const retried = completedOf(await send(call('update_credit_limit', input, { key })));
      expect(retried).toMatchObject({
        deduplicated: false,
        output: { old_limit: 75_000, new_limit: 80_000 },
      });
      expect(await historyCount('idempotency_key', key)).toBe(1);
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
  });

  it('answers a failing database with a safe message and rolls the limit back with the history', async () => {
    // The history insert fails after the limit was updated in the same transaction.
    await consumer.db.query(`
      CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'history store offline: password=hunter2 host=10.1.2.3'; END $$`);
    await consumer.db.query(
      'CREATE TRIGGER refuse_history BEFORE INSERT ON account_history FOR EACH ROW EXECUTE FUNCTION refuse_history()',
    );
    try {
      const answer = await send(
        call('update_credit_limit', {
          customer_id: 'cus_004',
          new_limit: 200_000,
          reason: 'new warehouse contract',
        }),
      );
      const error = failureOf(answer);
      expect(error).toMatchObject({ class: 'internal', code: 'internal_error', retryable: false });
      expect(error.message).toMatch(/^the tool failed unexpectedly \(reference [0-9a-f]{8}\)$/);
      for (const secret of ['hunter2', '10.1.2.3', 'account_history', 'INSERT'])
        expect(JSON.stringify(answer.value)).not.toContain(secret);
      expect(await limitOf('cus_004')).toBe('180000.00');
    } finally {
      await consumer.db.query('DROP TRIGGER refuse_history ON account_history');
      await consumer.db.query('DROP FUNCTION refuse_history()');
    }
  });

  it('queues concurrent changes of one account: each history row starts where the last ended', async () => {
    const limits = Array.from({ length: 12 }, (_, n) => 100_000 + n * 1_000);
    const answers = await Promise.all(
      limits.map((newLimit) =>
        send(
          call('update_credit_limit', {
            customer_id: 'cus_002',
            new_limit: newLimit,
            reason: 'batch review',
          }),
        ),
      ),
    );
    expect(answers.map((a) => a.event.type)).toEqual(
      limits.map(() => Messages.toolCallCompleted.type),
    );
    const history = await query<{ old_value: string; new_value: string }>(
      `SELECT old_value, new_value FROM account_history WHERE account_id = 'cus_002' ORDER BY id`,
    );
    expect(history).toHaveLength(limits.length);
    expect(history[0]!.old_value).toBe('250000.00');
    for (let i = 1; i < history.length; i++)
      expect(history[i]!.old_value).toBe(history[i - 1]!.new_value);
    expect(await limitOf('cus_002')).toBe(history.at(-1)!.new_value);
    expect(history.map((h) => Number(h.new_value)).sort((a, b) => a - b)).toEqual(limits);
  });

  it('finds customers and reads limits over Kafka', async () => {
    expect(completedOf(await send(call('find_customer', { query: 'nordwind' }))).output).toEqual({
      customers: [{ id: 'cus_004', name: 'Nordwind Logistik GmbH', country: 'DE' }],
      truncated: false,
    });
    expect(
      completedOf(await send(call('get_credit_limit', { customer_id: 'cus_001' }))).output,
    ).toEqual({ customer_id: 'cus_001', name: 'Acme Corp', credit_limit: 50_000, currency: 'USD' });
  });
});
