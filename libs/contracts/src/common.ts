import { z } from 'zod';

/** Tool names as the registry accepts them. */
export const ToolName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'must start with a lower-case letter and use only a-z, 0-9 and _ (at most 64)',
  )
  .describe('Tool name, e.g. get_credit_limit');

/** Scopes look like `crm:read` or `registry:approve`. */
export const Scope = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*(:[a-z0-9_*-]+)+$/, 'must look like area:action, e.g. crm:read')
  .describe('An OAuth-style scope, e.g. crm:read');

/** Data-residency region, e.g. `eu`, `us`, `eu-west-1`. */
export const Region = z
  .string()
  .regex(/^[a-z]{2}(-[a-z0-9]+)*$/, 'must be a region code such as eu, us or eu-west-1')
  .describe('Data-residency region');

export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lower-case letters, digits, _ or - (at most 64)')
  .describe('Tenant id');

/** Conversation id: keys conversation traffic so one conversation stays ordered. */
export const ContextId = z
  .string()
  .min(8)
  .max(128)
  .describe('Conversation id; the Kafka key of conversation traffic');

export const IdempotencyKey = z
  .string()
  .min(8)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must use only letters, digits and . _ : -')
  .describe(
    'Idempotency key of a tool call; the Kafka key of tool traffic and the dedup key of consumers',
  );

export const Timestamp = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');

/** Who is acting: a user, a service, or an API key, with the scopes it was granted. */
export const Principal = z
  .object({
    subject: z
      .string()
      .min(1)
      .max(256)
      .describe('Stable id of the caller (JWT sub, service name or API key id)'),
    kind: z.enum(['user', 'service', 'api_key']).describe('What kind of caller this is'),
    tenant: TenantId,
    scopes: z.array(Scope).max(256).describe('Scopes granted to the caller'),
    regions: z
      .array(Region)
      .max(32)
      .optional()
      .describe('Data regions the caller may use; absent means any'),
    teams: z
      .array(z.string().min(1).max(128))
      .max(256)
      .optional()
      .describe(
        "Teams the caller belongs to (the token's groups claim): a tool's owner must be one of them to publish its versions",
      ),
    displayName: z.string().max(256).optional(),
  })
  .describe('The authenticated caller');
export type Principal = z.infer<typeof Principal>;

/** Any JSON object (tool input, tool output, free-form details). */
export const JsonObject = z.record(z.string(), z.unknown()).describe('A JSON object');
export type JsonObject = z.infer<typeof JsonObject>;

/** Token usage of one model call, or summed over a conversation. */
export const Usage = z
  .object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    cacheReadTokens: z.number().int().nonnegative().default(0),
    cacheWriteTokens: z.number().int().nonnegative().default(0),
  })
  .describe('Token usage');
export type Usage = z.infer<typeof Usage>;

/**
 * How an error is classified. Retryable classes (timeout, unavailable, rate_limited) may
 * succeed if tried again; the others will not.
 */
export const ErrorClass = z
  .enum([
    'validation',
    'business',
    'forbidden',
    'not_found',
    'timeout',
    'unavailable',
    'rate_limited',
    'budget_exceeded',
    'internal',
  ])
  .describe('Error class');
export type ErrorClass = z.infer<typeof ErrorClass>;

/** One problem with an input, located by JSON pointer. */
export const FieldIssue = z
  .object({
    pointer: z.string().describe('RFC 6901 JSON pointer to the bad field; "/" is the whole input'),
    message: z.string().describe('What was wrong and what was expected'),
    expected: z.string().optional(),
  })
  .describe('A problem with one field');
export type FieldIssue = z.infer<typeof FieldIssue>;

/** An error that is safe to show a model or a user: no stack traces, no secrets. */
export const SafeError = z
  .object({
    class: ErrorClass,
    code: z
      .string()
      .min(1)
      .max(100)
      .describe('Machine-readable code, e.g. invalid_input, customer_not_found'),
    message: z
      .string()
      .min(1)
      .max(2000)
      .describe('Human-readable explanation, safe to show a model'),
    retryable: z.boolean(),
    issues: z.array(FieldIssue).max(100).optional(),
  })
  .describe('A classified, safe error');
export type SafeError = z.infer<typeof SafeError>;
