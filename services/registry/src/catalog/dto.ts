import { LifecycleRequest, Region, ToolStatus } from '@toolbus/contracts';
import { z } from 'zod';

const list = <T extends string>(item: z.ZodType<T, string>) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(item).max(16));

/** Query of GET /v1/tools. Unknown parameters are refused, not ignored. */
export const SearchParams = (maxLimit: number) =>
  z
    .object({
      q: z
        .string()
        .max(200)
        .optional()
        .describe('Words that must all appear in name, title, description or tags'),
      tag: list(z.string().min(1).max(64)).default([]),
      owner: z.string().min(1).max(128).optional(),
      region: Region.optional(),
      status: list(ToolStatus).optional(),
      limit: z.coerce.number().int().min(1).max(maxLimit).default(20),
      cursor: z.string().min(1).max(1000).optional(),
    })
    .strict();

export const LifecycleBody = LifecycleRequest.strict();
