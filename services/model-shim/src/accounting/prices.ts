import { z } from 'zod';
import type { Usage } from '@toolbus/contracts';

/** USD per million tokens. */
export const ModelPrice = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cacheRead: z.number().nonnegative().optional(),
  cacheWrite: z.number().nonnegative().optional(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/** Keyed `provider:model`, or `provider:*` for every model of a provider (self-hosted: 0). */
export const PriceTable = z.record(
  z.string().regex(/^[a-z0-9-]+:.+$/, 'keys look like provider:model'),
  ModelPrice,
);
export type PriceTable = z.infer<typeof PriceTable>;

/** Cost of one call; unknown models cost 0 and are reported by the caller as unpriced. */
export function costOf(
  prices: PriceTable,
  provider: string,
  model: string,
  usage: Usage,
): { usd: number; priced: boolean } {
  const price = prices[`${provider}:${model}`] ?? prices[`${provider}:*`];
  if (!price) return { usd: 0, priced: false };
  const usd =
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cacheReadTokens * (price.cacheRead ?? price.input) +
      usage.cacheWriteTokens * (price.cacheWrite ?? price.input)) /
    1_000_000;
  return { usd: Math.round(usd * 1e8) / 1e8, priced: true };
}
