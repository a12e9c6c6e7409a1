import { z } from 'zod';
import { defineTool } from '@toolbus/tool-sdk';
import { rowsOf } from '@toolbus/persistence';
import { customerId, customerNotFound } from './customer.schemas.js';

export const getCreditLimitTool = defineTool({
  name: 'get_credit_limit',
  title: 'Credit limit of a customer',
  description:
    "Returns a customer's current credit limit and its currency, with the company name. " +
    'Needs the customer id (find_customer looks it up by name).',
  input: z.object({ customer_id: customerId }),
  output: z.object({
    customer_id: z.string(),
    name: z.string().describe('Company name'),
    credit_limit: z.number().describe('Current credit limit in the account currency'),
    currency: z.string().describe('ISO 4217 currency code of the account'),
  }),
  scopes: ['crm:read'],
  annotations: { readOnlyHint: true, idempotentHint: true },
  sync: true,
  tags: ['crm', 'finance'],
  handler: async ({ customer_id }, ctx) =>
    ctx.transaction(async (em) => {
      const [account] = rowsOf<{ name: string; credit_limit: string; currency: string }>(
        await em.query('SELECT name, credit_limit, currency FROM accounts WHERE id = $1', [
          customer_id,
        ]),
      );
      if (!account) throw customerNotFound(customer_id);
      return {
        customer_id,
        name: account.name,
        credit_limit: Number(account.credit_limit),
        currency: account.currency,
      };
    }),
});
