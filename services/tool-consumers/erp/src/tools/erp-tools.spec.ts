import { completedOf, failureOf, toolCall, uniqueName } from '@toolbus/testing';
import { grantEnv, withTestGrant } from '@toolbus/testing-bus';
import {
  runToolConsumer,
  toToolDefinition,
  type RunningToolConsumer,
  type ToolReply,
} from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erpMigrations, SEED_INVENTORY } from '../migrations/index.js';
import { erpTools } from './index.js';

describe('ERP tool declarations', () => {
  const definitions = erpTools.map((tool) =>
    toToolDefinition(tool, {
      owner: 'erp-team',
      region: 'eu',
      transport: { kind: 'kafka', topic: 'tool_requests.erp' },
    }),
  );

  it('describes every input field, since the model reads the descriptions', () => {
    expect(definitions.map((d) => d.name)).toEqual(['get_inventory', 'reserve_stock']);
    for (const d of definitions) {
      const properties = (d.inputSchema as { properties: Record<string, { description?: string }> })
        .properties;
      expect(Object.keys(properties).length).toBeGreaterThan(1);
      for (const [field, schema] of Object.entries(properties))
        expect(schema.description, `${d.name}.${field}`).toMatch(/\w{3,}.*\w{3,}/);
    }
  });

  it('marks get_inventory read-only and reserve_stock idempotent, with scopes', () => {
    expect(definitions[0]).toMatchObject({
      scopes: ['erp:read'],
      sync: true,
      annotations: { readOnlyHint: true, idempotentHint: true },
      inputSchema: { required: ['sku'] },
    });
    expect(definitions[1]).toMatchObject({
      scopes: ['erp:write'],
      sync: false,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
      inputSchema: { required: ['sku', 'warehouse', 'quantity', 'order_id'] },
    });
  });
});

describe('ERP tools on an in-process database (PGlite)', () => {
  let consumer: RunningToolConsumer;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service: 'erp',
        tools: erpTools,
        migrations: erpMigrations,
      },
      {
        env: {
          DATABASE_URL: 'pglite://memory',
          PORT: '0',
          MANAGEMENT_PORT: '0',
          LOG_LEVEL: 'silent',
          ...grantEnv(),
        },
      },
    );
  }, 30_000); // PGlite starts and migrates in a few seconds; more on a busy machine
  afterAll(async () => {
    await consumer?.close();
  });

  const invoke = (
    tool: string,
    input: Record<string, unknown>,
    key = uniqueName('key'),
  ): Promise<ToolReply> =>
    withTestGrant(
      'erp',
      toolCall(tool, input, {
        key,
        deadlineMs: 5_000,
        principal: {
          subject: 'order-service',
          kind: 'service',
          tenant: 'acme',
          scopes: ['erp:read', 'erp:write'],
        },
      }),
    ).then((call) => consumer.runtime.invoke(call, 'http'));
  const ok = completedOf;
  const error = failureOf;
  const level = async (sku: string, warehouse: string) =>
    (
      (await consumer.db.query(
        'SELECT on_hand, reserved FROM inventory WHERE sku = $1 AND warehouse = $2',
        [sku, warehouse],
      )) as Array<{ on_hand: number; reserved: number }>
    )[0];
  const reservationsFor = async (key: string) =>
    (await consumer.db.query('SELECT * FROM reservations WHERE idempotency_key = $1', [
      key,
    ])) as Array<Record<string, unknown>>;

  it('seeds several SKUs across the berlin, austin and tokyo warehouses', () => {
    expect(new Set(SEED_INVENTORY.map((i) => i.sku)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(SEED_INVENTORY.map((i) => i.warehouse))).toEqual(
      new Set(['berlin', 'austin', 'tokyo']),
    );
  });

  describe('input validation', () => {
    it('names each bad field of reserve_stock and says what is wrong with it', async () => {
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ quantity: 0 }, '/quantity', 'must be at least 1'],
        [{ quantity: 2.5 }, '/quantity', 'must be a whole number of units'],
        [{ quantity: 1e6 }, '/quantity', 'must be at most 100000 in one reservation'],
        [{ sku: 'brake pads' }, '/sku', 'must be a SKU like BAT-18650-30'],
        [{ warehouse: 'São Paulo' }, '/warehouse', 'must be a warehouse code like berlin'],
        [{ order_id: '' }, '/order_id', 'must be an order id like SO-2024-0042'],
      ];
      for (const [change, pointer, message] of cases) {
        const e = error(
          await invoke('reserve_stock', {
            sku: 'CBL-USBC-2M',
            warehouse: 'berlin',
            quantity: 1,
            order_id: 'SO-1',
            ...change,
          }),
        );
        expect(e).toMatchObject({ class: 'validation', code: 'invalid_input', retryable: false });
        expect(e.issues?.map((i) => i.pointer)).toEqual([pointer]);
        expect(e.message).toContain(`${pointer} ${message}`);
      }
      expect(error(await invoke('reserve_stock', { sku: 'CBL-USBC-2M' })).message).toBe(
        'invalid input for reserve_stock: /warehouse Invalid input: expected string, received undefined; /quantity Invalid input: expected number, received undefined; /order_id Invalid input: expected string, received undefined',
      );
      expect(await level('CBL-USBC-2M', 'berlin')).toEqual({ on_hand: 1500, reserved: 0 });
    });
  });

  describe('get_inventory', () => {
    it('lists every warehouse with available = on hand - reserved, SKU case ignored', async () => {
      expect(ok(await invoke('get_inventory', { sku: 'bat-18650-30' })).output).toEqual({
        sku: 'BAT-18650-30',
        name: '18650 lithium-ion cell, 3000 mAh',
        warehouses: [
          { warehouse: 'austin', on_hand: 2500, reserved: 300, available: 2200 },
          { warehouse: 'berlin', on_hand: 5000, reserved: 1200, available: 3800 },
          { warehouse: 'tokyo', on_hand: 8000, reserved: 500, available: 7500 },
        ],
        total_available: 13_500,
      });
    });

    it('narrows to one warehouse, and says where a SKU is stocked when it is not there', async () => {
      expect(
        ok(await invoke('get_inventory', { sku: 'BRK-PAD-220', warehouse: 'Tokyo' })).output,
      ).toEqual({
        sku: 'BRK-PAD-220',
        name: 'Ceramic brake pad set, front axle',
        warehouses: [{ warehouse: 'tokyo', on_hand: 75, reserved: 75, available: 0 }],
        total_available: 0,
      });
      expect(
        error(await invoke('get_inventory', { sku: 'SNS-TEMP-01', warehouse: 'austin' })),
      ).toEqual({
        class: 'not_found',
        code: 'not_stocked',
        message: 'SNS-TEMP-01 is not stocked in austin; it is stocked in berlin, tokyo',
        retryable: false,
      });
      expect(error(await invoke('get_inventory', { sku: 'XYZ-000' }))).toMatchObject({
        class: 'not_found',
        code: 'sku_not_found',
        message: 'there is no product with SKU XYZ-000; check the SKU',
      });
    });
  });

  describe('reserve_stock', () => {
    it('reserves what is available and records the reservation with its key', async () => {
      const key = uniqueName('key');
      const done = ok(
        await invoke(
          'reserve_stock',
          { sku: 'MTR-NEMA17', warehouse: 'berlin', quantity: 8, order_id: 'SO-2024-0042' },
          key,
        ),
      );
      const [row] = await reservationsFor(key);
      expect(done.output).toEqual({
        reservation_id: row!['id'],
        sku: 'MTR-NEMA17',
        warehouse: 'berlin',
        quantity: 8,
        order_id: 'SO-2024-0042',
        available_after: 40,
      });
      expect(row).toMatchObject({ sku: 'MTR-NEMA17', warehouse: 'berlin', quantity: 8 });
      expect(await level('MTR-NEMA17', 'berlin')).toEqual({ on_hand: 60, reserved: 20 });
    });

    it('reserves the last units, then refuses, saying how many are available', async () => {
      // PCB-CTRL-V3 in berlin: 18 on hand, 3 reserved.
      const tooMany = error(
        await invoke('reserve_stock', {
          sku: 'PCB-CTRL-V3',
          warehouse: 'berlin',
          quantity: 16,
          order_id: 'SO-7',
        }),
      );
      expect(tooMany).toEqual({
        class: 'business',
        code: 'insufficient_stock',
        message: 'only 15 of PCB-CTRL-V3 available in berlin; 16 requested, nothing reserved',
        retryable: false,
      });
      expect(
        ok(
          await invoke('reserve_stock', {
            sku: 'PCB-CTRL-V3',
            warehouse: 'berlin',
            quantity: 15,
            order_id: 'SO-7',
          }),
        ).output,
      ).toMatchObject({ quantity: 15, available_after: 0 });
      expect(
        error(
          await invoke('reserve_stock', {
            sku: 'PCB-CTRL-V3',
            warehouse: 'berlin',
            quantity: 1,
            order_id: 'SO-8',
          }),
        ).message,
      ).toBe('only 0 of PCB-CTRL-V3 available in berlin; 1 requested, nothing reserved');
      expect(await level('PCB-CTRL-V3', 'berlin')).toEqual({ on_hand: 18, reserved: 18 });
    });

    it('answers unknown SKUs and warehouses as not found', async () => {
      expect(
        error(
          await invoke('reserve_stock', {
            sku: 'FAN-120-PWM',
            warehouse: 'berlin',
            quantity: 1,
            order_id: 'SO-9',
          }),
        ),
      ).toMatchObject({
        class: 'not_found',
        code: 'not_stocked',
        message: 'FAN-120-PWM is not stocked in berlin; it is stocked in austin, tokyo',
      });
      expect(
        error(
          await invoke('reserve_stock', {
            sku: 'NOPE-1',
            warehouse: 'berlin',
            quantity: 1,
            order_id: 'SO-9',
          }),
        ),
      ).toMatchObject({ class: 'not_found', code: 'sku_not_found' });
    });

    it('repeats of one call reserve nothing again and return the first reservation', async () => {
      const key = uniqueName('key');
      const input = { sku: 'CBL-USBC-2M', warehouse: 'tokyo', quantity: 40, order_id: 'SO-11' };
      const first = ok(await invoke('reserve_stock', input, key));
      const again = ok(await invoke('reserve_stock', input, key));
      expect(again).toMatchObject({ deduplicated: true, output: first.output });
      expect(await reservationsFor(key)).toHaveLength(1);
      expect(await level('CBL-USBC-2M', 'tokyo')).toEqual({ on_hand: 2200, reserved: 40 });
    });

    it('is backed by the database: it refuses reserved above on hand, whoever writes', async () => {
      await expect(
        consumer.db.query(
          `UPDATE inventory SET reserved = on_hand + 1 WHERE sku = 'FAN-120-PWM' AND warehouse = 'tokyo'`,
        ),
      ).rejects.toThrow(/inventory_reserved_within_on_hand/);
      expect(await level('FAN-120-PWM', 'tokyo')).toEqual({ on_hand: 300, reserved: 20 });
    });
  });
});
