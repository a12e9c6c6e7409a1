import { z } from 'zod';
import { defineTool } from '@toolbus/tool-sdk';
import { rowsOf } from '@toolbus/persistence';
import { notStocked, sku, StockLevel, unknownSku, warehouse } from './stock.schemas.js';

interface Row {
  name: string;
  warehouse: string | null;
  on_hand: number | null;
  reserved: number | null;
}

export const getInventoryTool = defineTool({
  name: 'get_inventory',
  title: 'Stock of a product',
  description:
    'Returns the stock of a product (by SKU) per warehouse: units on hand, reserved for orders, ' +
    'and available to reserve (on hand minus reserved), with the total available. ' +
    'Give a warehouse to see only that one.',
  input: z.object({
    sku,
    warehouse: warehouse
      .optional()
      .describe('Warehouse code (berlin, austin or tokyo); omit for all'),
  }),
  output: z.object({
    sku: z.string(),
    name: z.string().describe('Product name'),
    warehouses: z.array(StockLevel),
    total_available: z.number().int().describe('Available units over the warehouses listed'),
  }),
  scopes: ['erp:read'],
  annotations: { readOnlyHint: true, idempotentHint: true },
  sync: true,
  tags: ['erp', 'inventory'],
  handler: async (input, ctx) =>
    ctx.transaction(async (em) => {
      const rows = rowsOf<Row>(
        await em.query(
          `SELECT p.name, i.warehouse, i.on_hand, i.reserved
           FROM products p LEFT JOIN inventory i ON i.sku = p.sku
           WHERE p.sku = $1 ORDER BY i.warehouse`,
          [input.sku],
        ),
      );
      const product = rows[0];
      if (!product) throw unknownSku(input.sku);
      const stocked = rows.filter((r) => r.warehouse !== null);
      const listed = input.warehouse
        ? stocked.filter((r) => r.warehouse === input.warehouse)
        : stocked;
      if (input.warehouse && listed.length === 0)
        throw notStocked(
          input.sku,
          input.warehouse,
          stocked.map((r) => r.warehouse!),
        );
      const warehouses = listed.map((r) => ({
        warehouse: r.warehouse!,
        on_hand: r.on_hand!,
        reserved: r.reserved!,
        available: r.on_hand! - r.reserved!,
      }));
      return {
        sku: input.sku,
        name: product.name,
        warehouses,
        total_available: warehouses.reduce((sum, w) => sum + w.available, 0),
      };
    }),
});
