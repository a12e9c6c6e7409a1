import {
  Region,
  type ErrorClass,
  type FieldIssue,
  type JsonObject,
  type Principal,
  type SafeError,
  type ToolDefinition,
} from '@toolbus/contracts';
import { z } from 'zod';

/** One tool call as the policy sees it, whether a model asked for it or a client called it. */
export interface PolicyCall {
  /** The tool's registry definition: scopes, region, rate limit, input schema, annotations. */
  tool: ToolDefinition;
  input: JsonObject;
  principal: Principal;
  tenant: string;
  /** The tool names offered to the model in this ask; undefined for a direct call. */
  offeredTools?: ReadonlySet<string>;
  /** The ask this call belongs to; undefined for a direct call. */
  askId?: string;
}

/** What a tenant is allowed, as the orchestrator's configuration gives it. */
export const TenantSettings = z
  .object({
    allowedRegions: z
      .array(Region)
      .min(1)
      .max(32)
      .optional()
      .describe('Regions whose tools the tenant may use (eu covers eu-west-1); absent means any'),
    askTokenCap: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Tokens one ask may spend; default the platform default (2,000)'),
    monthlyTokenBudget: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Tokens per calendar month (UTC); absent means unlimited'),
    monthlyUsdBudget: z
      .number()
      .positive()
      .optional()
      .describe('US dollars per calendar month (UTC); absent means unlimited'),
    rateLimitPerMinute: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Calls per minute to any one tool by this tenant; default the tool's own limit"),
  })
  .strict()
  .describe('Policy settings of one tenant');
export type TenantSettings = z.infer<typeof TenantSettings>;

/** What a step may consult beyond the call itself. */
export interface PolicyContext {
  tenantSettings: TenantSettings;
}

/** Something worth telling without refusing (a budget 80% spent). */
export interface PolicyWarning {
  step: string;
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export interface Allow {
  kind: 'allow';
  warnings?: PolicyWarning[];
}

/** A refusal the caller sees and the model can read and act on. */
export interface Refusal {
  kind: 'refuse';
  step: string;
  /** Machine-readable: insufficient_scope, excessive_agency, rate_limited, ... */
  code: string;
  errorClass: ErrorClass;
  retryable: boolean;
  /** Written for a model: what was wrong, and what to do about it. */
  message: string;
  /** When trying again could succeed. */
  retryAfterMs?: number;
  /** Each bad input field, by JSON pointer. */
  issues?: FieldIssue[];
}

/** Neither allowed nor refused yet: waits for something else (a human's approval). */
export interface Hold {
  kind: 'hold';
  step: string;
  reason: string;
}

export type Decision = Allow | Refusal | Hold;

/** One step of the policy chain. Steps decide; they never call the tool. */
export interface PolicyStep {
  readonly name: string;
  decide(call: PolicyCall, context: PolicyContext): Promise<Decision>;
}

/** The refusal codes of the built-in steps. */
export const RefusalCodes = {
  insufficientScope: 'insufficient_scope',
  excessiveAgency: 'excessive_agency',
  regionNotAllowed: 'region_not_allowed',
  invalidArguments: 'invalid_arguments',
  argumentsTooLarge: 'arguments_too_large',
  rateLimited: 'rate_limited',
  quotaUnavailable: 'quota_unavailable',
  askTokenCapReached: 'ask_token_cap_reached',
  budgetExceeded: 'budget_exceeded',
  budgetUnavailable: 'budget_unavailable',
  breakerOpen: 'breaker_open',
  policyError: 'policy_error',
} as const;

export const ALLOW: Allow = Object.freeze({ kind: 'allow' }) as Allow;

export function refuse(refusal: Omit<Refusal, 'kind'>): Refusal {
  return { kind: 'refuse', ...refusal };
}

/** The refusal as the structured tool error a model reads and a caller receives. */
export function refusalError(refusal: Refusal): SafeError {
  return {
    class: refusal.errorClass,
    code: refusal.code,
    message: refusal.message.slice(0, 2000),
    retryable: refusal.retryable,
    ...(refusal.issues?.length ? { issues: refusal.issues.slice(0, 100) } : {}),
  };
}

/** "1.2 s", "45 s", "3 min": how long, for a sentence a model reads. */
export function humanDuration(ms: number): string {
  if (ms < 10_000) return `${Math.max(0.1, Math.ceil(ms / 100) / 10)} s`;
  if (ms < 120_000) return `${Math.ceil(ms / 1000)} s`;
  return `${Math.ceil(ms / 60_000)} min`;
}
