import { z } from 'zod';
import { defineTool } from '@toolbus/tool-sdk';
import { likeContains, likePrefix, rowsOf } from '@toolbus/persistence';

const MAX_RESULTS = 10;

const Customer = z.object({
  id: z.string().describe('Customer id, the customer_id of the other CRM tools'),
  name: z.string().describe('Company name'),
  country: z.string().describe('ISO 3166-1 alpha-2 country code'),
});

export const findCustomerTool = defineTool({
  name: 'find_customer',
  title: 'Find a customer',
  description:
    'Searches customer accounts by part of the company name or of the customer id, ignoring case, ' +
    `and returns up to ${MAX_RESULTS} matches (exact matches first) with their id, name and country. ` +
    'Use it to get the customer_id the other CRM tools need.',
  input: z.object({
    query: z
      .string()
      .trim()
      .min(2, 'must have at least 2 characters')
      .max(100, 'must have at most 100 characters')
      .describe('Part of the company name or of the customer id, e.g. "acme" or "cus_001"'),
  }),
  output: z.object({
    customers: z.array(Customer).max(MAX_RESULTS),
    truncated: z
      .boolean()
      .describe(`True when more than ${MAX_RESULTS} customers match: ask with a longer query`),
  }),
  scopes: ['crm:read'],
  annotations: { readOnlyHint: true, idempotentHint: true },
  sync: true,
  cacheTtlSeconds: 60,
  tags: ['crm'],
  handler: async ({ query }, ctx) =>
    ctx.transaction(async (em) => {
      const rows = rowsOf<z.infer<typeof Customer>>(
        await em.query(
          `SELECT id, name, country FROM accounts
           WHERE name ILIKE $1 OR id ILIKE $1
           ORDER BY (lower(name) = lower($2) OR lower(id) = lower($2)) DESC,
                    (name ILIKE $3) DESC, name
           LIMIT $4`,
          [likeContains(query), query, likePrefix(query), MAX_RESULTS + 1],
        ),
      );
      return { customers: rows.slice(0, MAX_RESULTS), truncated: rows.length > MAX_RESULTS };
    }),
});
