import type { Span } from '@opentelemetry/api';
import type { ToolCallRequested } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { DataSource, EntityManager } from '@toolbus/persistence';
import type { ZodError } from 'zod';
import type { AuthorizedCall } from './call-authorizer.js';
import type { DedupKey, DedupStore } from './dedup.js';
import type { Tool, ToolContext } from './define-tool.js';

/** The handler ran past its deadline (or the effect was about to commit after it). */
export class DeadlineError extends Error {}
/** Another delivery took the claim over: this one may not record an outcome. */
export class LostClaimError extends Error {}
/** The handler's result does not match the tool's output schema. */
export class OutputError extends Error {
  constructor(readonly issues: ZodError) {
    super('invalid output');
  }
}

/** A call that passed parsing: what every later step works on. */
export interface ParsedCall {
  call: ToolCallRequested;
  tool: Tool;
  input: unknown;
  /** Epoch ms: the caller's deadline, capped at arrival + the tool's timeout + grace. */
  deadline: number;
}

/** A call its grant authorized: who calls, and its dedup key and hash (caller, tool, input). */
export interface GrantedCall extends ParsedCall {
  granted: AuthorizedCall;
  key: DedupKey;
  callHash: string;
}

/** A call whose key this instance holds: the lease and what aborts the handler. */
export interface ClaimedCall extends GrantedCall {
  leaseMs: number;
  log: Logger;
  signal: AbortSignal;
}

/** What the context needs of the runtime. */
export interface HandlerDeps {
  db: DataSource;
  dedup: DedupStore;
  owner: string;
  afterCommit?(call: ToolCallRequested): void;
}

/**
 * The handler's context: the grant's principal and tenant (never the body's), and
 * `ctx.transaction`, which commits the effect with the dedup record, so the effect happens
 * once or not at all. `committed` receives the committed result.
 */
export function handlerContext(
  deps: HandlerDeps,
  claimed: ClaimedCall,
  span: Span,
  committed: { value?: { output: unknown } },
): ToolContext {
  const { call, tool, deadline, signal } = claimed;
  return {
    principal: claimed.granted.principal,
    tenant: claimed.granted.tenant,
    idempotencyKey: call.idempotencyKey,
    callId: call.callId,
    deadline,
    signal,
    logger: claimed.log,
    span,
    transaction: async <T>(fn: (em: EntityManager) => Promise<T>): Promise<T> => {
      if (committed.value)
        throw new Error('ctx.transaction may be used once per call: its value is the result');
      const value = await deps.db.transaction(async (em) => {
        // The database gives up when the caller does: no statement or lock wait outlives the deadline.
        const budget = Math.max(1, Math.round(deadline - Date.now()) + 250);
        await em.query(`SET LOCAL statement_timeout = ${budget}`);
        await em.query(`SET LOCAL lock_timeout = ${budget}`);
        const out = tool.output.safeParse(await fn(em));
        if (!out.success) throw new OutputError(out.error);
        // Past the deadline nobody waits for this answer: roll the effect back instead.
        if (signal.aborted) throw new DeadlineError();
        if (!(await deps.dedup.finish(em, claimed.key, deps.owner, 'completed', out.data)))
          throw new LostClaimError();
        return out.data as T;
      });
      committed.value = { output: value };
      deps.afterCommit?.(call);
      return value;
    },
  };
}
