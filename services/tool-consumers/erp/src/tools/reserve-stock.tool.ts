import { z } from 'zod';
import { BusinessError, defineTool } from '@toolbus/tool-sdk';
import { rowsOf } from '@toolbus/persistence';
import { notStocked, sku, unknownSku, warehouse } from './stock.schemas.js';

export const reserveStockInput = z.object({
  sku,
  warehouse,
  quantity: z
    .number()
    .int('must be a whole number of units')
    .min(1, 'must be at least 1')
    .max(100_000, 'must be at most 100000 in one reservation')
    .describe('Units to reserve, e.g. 5'),
  order_id: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
      'must be an order id like SO-2024-0042 (letters, digits, - _ . :, at most 64)',
    )
    .describe('Id of the sales order the units are reserved for, e.g. SO-2024-0042'),
});

export const reserveStockTool = defineTool({
  name: 'reserve_stock',
  title: 'Reserve stock for an order',
  description:
    'Reserves units of a product in one warehouse for a sales order, if that many are available ' +
    '(on hand minus already reserved); otherwise nothing is reserved and the error says how many ' +
    'are available. Repeating a call with the same idempotency key returns the first reservation ' +
    'and reserves nothing again.',
  input: reserveStockInput,
  output: z.object({
    reservation_id: z.number().int().describe('Id of the reservation'),
    sku: z.string(),
    warehouse: z.string(),
    quantity: z.number().int().describe('Units reserved'),
    order_id: z.string(),
    available_after: z
      .number()
      .int()
      .describe('Units still available in the warehouse right after this reservation'),
  }),
  scopes: ['erp:write'],
  annotations: { destructiveHint: false, idempotentHint: true },
  timeoutMs: 5_000,
  tags: ['erp', 'inventory'],
  handler: async (input, ctx) =>
    ctx.transaction(async (em) => {
      // One conditional UPDATE: the row lock orders concurrent reservations of a SKU, and each
      // re-checks availability against the committed value it waited for. Never over-reserves.
      const [level] = rowsOf<{ on_hand: number; reserved: number }>(
        await em.query(
          `UPDATE inventory SET reserved = reserved + $3, updated_at = now()
           WHERE sku = $1 AND warehouse = $2 AND on_hand - reserved >= $3
           RETURNING on_hand, reserved`,
          [input.sku, input.warehouse, input.quantity],
        ),
      );
      if (!level) {
        const stock = rowsOf<{ warehouse: string; available: number }>(
          await em.query(
            'SELECT warehouse, on_hand - reserved AS available FROM inventory WHERE sku = $1',
            [input.sku],
          ),
        );
        const here = stock.find((s) => s.warehouse === input.warehouse);
        if (here)
          throw new BusinessError(
            'insufficient_stock',
            `only ${here.available} of ${input.sku} available in ${input.warehouse}; ${input.quantity} requested, nothing reserved`,
          );
        const [product] = rowsOf<unknown>(
          await em.query('SELECT 1 FROM products WHERE sku = $1', [input.sku]),
        );
        if (!product) throw unknownSku(input.sku);
        throw notStocked(
          input.sku,
          input.warehouse,
          stock.map((s) => s.warehouse),
        );
      }
      const [reservation] = rowsOf<{ id: number }>(
        await em.query(
          `INSERT INTO reservations (sku, warehouse, quantity, order_id, idempotency_key)
           VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [input.sku, input.warehouse, input.quantity, input.order_id, ctx.idempotencyKey],
        ),
      );
      return {
        reservation_id: reservation!.id,
        sku: input.sku,
        warehouse: input.warehouse,
        quantity: input.quantity,
        order_id: input.order_id,
        available_after: level.on_hand - level.reserved,
      };
    }),
});
