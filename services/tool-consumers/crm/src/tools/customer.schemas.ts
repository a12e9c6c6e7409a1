import { z } from 'zod';
import { BusinessError } from '@toolbus/tool-sdk';

/** A customer id as the CRM issues them; find_customer turns a name into one. */
export const customerId = z
  .string()
  .trim()
  .regex(/^cus_\d{3,}$/, 'must be a customer id like cus_001 (find_customer looks one up by name)')
  .describe('Customer id, e.g. cus_001 (find_customer returns it for a company name)');

export function customerNotFound(id: string): BusinessError {
  return new BusinessError(
    'customer_not_found',
    `there is no customer ${id}; find_customer searches customers by name`,
    'not_found',
  );
}
