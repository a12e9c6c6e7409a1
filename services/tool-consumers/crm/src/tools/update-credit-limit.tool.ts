import { z } from 'zod';
import { BusinessError, defineTool, type Tool } from '@toolbus/tool-sdk';
import { rowsOf } from '@toolbus/persistence';
import { customerId, customerNotFound } from './customer.schemas.js';

/** The largest value numeric(14, 2) holds: anything above is not a credit limit. */
const LARGEST_LIMIT = 999_999_999_999.99;

const amount = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

export const updateCreditLimitInput = z.object({
  customer_id: customerId,
  new_limit: z
    .number()
    .min(0, 'must be 0 or more: a credit limit cannot be negative')
    .max(LARGEST_LIMIT, `is not a plausible credit limit (at most ${amount(LARGEST_LIMIT)})`)
    .multipleOf(0.01, 'must have at most two decimal places')
    .describe(
      'The new credit limit in the account currency, e.g. 75000; 0 puts the account on credit hold',
    ),
  reason: z
    .string()
    .trim()
    .min(5, 'must say why, in at least 5 characters')
    .max(500, 'must have at most 500 characters')
    .describe(
      'Why the limit changes, kept in the account history, e.g. "annual review: two years of on-time payments"',
    ),
});

/**
 * update_credit_limit, refusing limits above `maxCreditLimit` (CRM_MAX_CREDIT_LIMIT): those
 * need a credit manager, not a model.
 */
export function updateCreditLimitTool(settings: { maxCreditLimit: number }): Tool {
  const { maxCreditLimit } = settings;
  return defineTool({
    name: 'update_credit_limit',
    title: 'Change the credit limit of a customer',
    description:
      "Sets a customer's credit limit and records the change, its reason and who made it in the " +
      'account history. It replaces the current limit. Repeating a call with the same idempotency ' +
      'key returns the first result and changes nothing again. ' +
      `Limits above ${amount(maxCreditLimit)} (in the account currency) are refused: a credit manager must approve those.`,
    input: updateCreditLimitInput,
    output: z.object({
      customer_id: z.string(),
      old_limit: z.number().describe('The limit before the change'),
      new_limit: z.number().describe('The limit now in force'),
      currency: z.string().describe('ISO 4217 currency code of the account'),
      history_id: z.number().int().describe('Id of the account-history row recording the change'),
    }),
    scopes: ['crm:write'],
    annotations: { destructiveHint: true, idempotentHint: true },
    timeoutMs: 5_000,
    tags: ['crm', 'finance'],
    handler: async (input, ctx) => {
      if (input.new_limit > maxCreditLimit)
        throw new BusinessError(
          'limit_above_threshold',
          `a credit limit of ${amount(input.new_limit)} is above ${amount(maxCreditLimit)}, the most this tool may set; a credit manager must approve it`,
        );
      // The limit, its history row and the SDK's dedup record commit together, or not at all.
      return ctx.transaction(async (em) => {
        const [account] = rowsOf<{ credit_limit: string; currency: string }>(
          await em.query('SELECT credit_limit, currency FROM accounts WHERE id = $1 FOR UPDATE', [
            input.customer_id,
          ]),
        );
        if (!account) throw customerNotFound(input.customer_id);
        const [updated] = rowsOf<{ credit_limit: string }>(
          await em.query(
            'UPDATE accounts SET credit_limit = $2, updated_at = now() WHERE id = $1 RETURNING credit_limit',
            [input.customer_id, input.new_limit],
          ),
        );
        const [history] = rowsOf<{ id: number }>(
          await em.query(
            `INSERT INTO account_history
               (account_id, field, old_value, new_value, reason, idempotency_key, changed_by, tenant)
             VALUES ($1, 'credit_limit', $2, $3, $4, $5, $6, $7) RETURNING id`,
            [
              input.customer_id,
              account.credit_limit,
              updated!.credit_limit,
              input.reason,
              ctx.idempotencyKey,
              ctx.principal.subject,
              ctx.tenant,
            ],
          ),
        );
        return {
          customer_id: input.customer_id,
          old_limit: Number(account.credit_limit),
          new_limit: Number(updated!.credit_limit),
          currency: account.currency,
          history_id: history!.id,
        };
      });
    },
  });
}
