import type {
  ContextId,
  JsonObject,
  Principal,
  SafeError,
  ToolDefinition,
} from '@toolbus/contracts';
import type { z } from 'zod';
import type { TenantSettings } from '@toolbus/policy';

/** One governed tool call, from a model's request in an ask or from a direct invocation. */
export interface ToolCallRequest {
  tool: string;
  version?: string;
  input: JsonObject;
  principal: Principal;
  tenantSettings: TenantSettings;
  /** One per logical call: every retry, and a resumed ask after a restart, reuses it. */
  idempotencyKey: string;
  deadline: number;
  /** The tools offered to the model in this ask; undefined for a direct invocation. */
  offered?: ReadonlySet<string>;
  askId?: string;
  contextId?: z.infer<typeof ContextId>;
}

/** What came of it. `refused`: a policy step said no; `failed`: the tool ran and failed. */
export interface ToolCallResult {
  outcome: 'succeeded' | 'failed' | 'refused';
  tool: string;
  toolVersion?: string;
  idempotencyKey: string;
  output?: unknown;
  error?: SafeError;
  /** Answered from the result cache while the tool's breaker is open. */
  stale?: { ageMs: number };
  durationMs: number;
}

/** Runs governed tool calls: the policy chain, the breaker, the dispatch, the audit. */
export interface ToolCalls {
  run(request: ToolCallRequest): Promise<ToolCallResult>;
}

/** The tool's definition as resolved for a call (residency routing may pick a version). */
export type ResolvedTool = ToolDefinition;
