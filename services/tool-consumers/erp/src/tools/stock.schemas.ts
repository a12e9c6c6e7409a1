import { z } from 'zod';
import { BusinessError } from '@toolbus/tool-sdk';

export const sku = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9][A-Z0-9-]{2,31}$/, 'must be a SKU like BAT-18650-30')
  .describe('Stock keeping unit of the product, e.g. BAT-18650-30');

export const warehouse = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9_-]{1,31}$/, 'must be a warehouse code like berlin, austin or tokyo')
  .describe('Warehouse code: berlin, austin or tokyo');

export const StockLevel = z.object({
  warehouse: z.string().describe('Warehouse code'),
  on_hand: z.number().int().describe('Units physically in the warehouse'),
  reserved: z.number().int().describe('Units promised to orders and not yet shipped'),
  available: z.number().int().describe('Units that can still be reserved: on_hand - reserved'),
});

export function unknownSku(code: string): BusinessError {
  return new BusinessError(
    'sku_not_found',
    `there is no product with SKU ${code}; check the SKU`,
    'not_found',
  );
}

export function notStocked(code: string, where: string, stockedIn: string[]): BusinessError {
  return new BusinessError(
    'not_stocked',
    stockedIn.length > 0
      ? `${code} is not stocked in ${where}; it is stocked in ${stockedIn.join(', ')}`
      : `${code} is not stocked in any warehouse`,
    'not_found',
  );
}
