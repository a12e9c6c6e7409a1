import { Messages, type ToolCallCompleted, type ToolCallFailed } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { completedOf, toolCall, uniqueName } from '@toolbus/testing';
import {
  consumerTestEnv,
  startToolCaller,
  type ToolAnswer,
  type ToolCaller,
} from '@toolbus/testing-bus';
import { runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erpMigrations, erpTools } from '../src/index.js';

const SKU = 'TST-RACE-100';

describe('reserve_stock under contention (real Kafka and PostgreSQL)', () => {
  // Its own topic and schema: nothing else in the run can take these calls or see these rows.
  const service = uniqueName('erp-it');
  const schema = service.replace(/-/g, '_');
  const logger = createLogger({
    name: 'erp-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service,
        tools: erpTools,
        migrations: erpMigrations,
      },
      {
        env: consumerTestEnv(schema, { TOOL_CONCURRENCY: '32' }),
        logger,
      },
    );
    caller = await startToolCaller({ logger, name: 'erp-caller' });
    await consumer.db.query(`INSERT INTO products (sku, name) VALUES ($1, 'Contended test item')`, [
      SKU,
    ]);
    await consumer.db.query(
      `INSERT INTO inventory (sku, warehouse, on_hand, reserved) VALUES ($1, 'berlin', 100, 0)`,
      [SKU],
    );
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await consumer?.close();
  });

  const send = (tool: string, input: Record<string, unknown>): Promise<ToolAnswer> => {
    const call = toolCall(tool, input, {
      deadlineMs: 60_000,
      principal: {
        subject: 'order-service',
        kind: 'service',
        tenant: 'acme',
        scopes: ['erp:read', 'erp:write'],
      },
    });
    return caller.call(service, call, { timeoutMs: 60_000 });
  };
  const level = async () =>
    (
      (await consumer.db.query(
        `SELECT on_hand, reserved FROM inventory WHERE sku = $1 AND warehouse = 'berlin'`,
        [SKU],
      )) as Array<{ on_hand: number; reserved: number }>
    )[0];

  it('200 concurrent reservations of 1 unit against 100 in stock: exactly 100 succeed', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        send('reserve_stock', {
          sku: SKU,
          warehouse: 'berlin',
          quantity: 1,
          order_id: `SO-RACE-${n}`,
        }),
      ),
    );
    const succeeded = answers
      .filter((a) => a.event.type === Messages.toolCallCompleted.type)
      .map((a) => (a.value as ToolCallCompleted).output as { available_after: number });
    const refused = answers
      .filter((a) => a.event.type === Messages.toolCallFailed.type)
      .map((a) => (a.value as ToolCallFailed).error);
    expect(succeeded).toHaveLength(100);
    expect(refused).toHaveLength(100);
    for (const error of refused)
      expect(error).toEqual({
        class: 'business',
        code: 'insufficient_stock',
        message: `only 0 of ${SKU} available in berlin; 1 requested, nothing reserved`,
        retryable: false,
      });
    // The reservations took turns: each saw a different remainder, 99 down to 0.
    expect(succeeded.map((s) => s.available_after).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, n) => n),
    );
    expect(await level()).toEqual({ on_hand: 100, reserved: 100 });
    expect(
      await consumer.db.query(
        `SELECT count(*)::int AS n, sum(quantity)::int AS units, count(DISTINCT idempotency_key)::int AS keys,
                count(DISTINCT order_id)::int AS orders
         FROM reservations WHERE sku = $1`,
        [SKU],
      ),
    ).toEqual([{ n: 100, units: 100, keys: 100, orders: 100 }]);
    const stock = completedOf(await send('get_inventory', { sku: SKU }));
    expect(stock.output).toMatchObject({
      warehouses: [{ warehouse: 'berlin', on_hand: 100, reserved: 100, available: 0 }],
    });
  });

  it('the database itself refuses over-reservation (a check constraint, not only the tool)', async () => {
    expect(
      await consumer.db.query(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
         WHERE conrelid = 'inventory'::regclass AND conname = 'inventory_reserved_within_on_hand'`,
      ),
    ).toEqual([{ def: 'CHECK ((reserved <= on_hand))' }]);
    await expect(
      consumer.db.query(
        `UPDATE inventory SET reserved = reserved + 1 WHERE sku = $1 AND warehouse = 'berlin'`,
        [SKU],
      ),
    ).rejects.toMatchObject({ code: '23514', constraint: 'inventory_reserved_within_on_hand' });
    expect(await level()).toEqual({ on_hand: 100, reserved: 100 });
  });
});
