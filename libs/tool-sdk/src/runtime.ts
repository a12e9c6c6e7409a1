import { createHash, randomUUID } from 'node:crypto';
import { trace, type Span } from '@opentelemetry/api';
import {
  ToolCallRequested,
  type SafeError,
  type ToolCallCompleted,
  type ToolCallFailed,
} from '@toolbus/contracts';
import type { DataSource, EntityManager } from '@toolbus/persistence';
import type { Logger } from '@toolbus/observability';
import type { ZodError } from 'zod';
import type { Tool, ToolContext } from './define-tool.js';
import { DedupStore } from './dedup.js';
import { isToolProvider, type ToolProvider } from './json-schema-tool.js';
import { classify, validationError } from './errors.js';
import { toolMetrics } from './metrics.js';

export type ToolReply =
  { ok: true; completed: ToolCallCompleted } | { ok: false; failed: ToolCallFailed };

export interface RuntimeOptions {
  service: string;
  /** A fixed list, or a provider looked up on every call (tools known only at run time). */
  tools: Tool[] | ToolProvider;
  db: DataSource;
  logger: Logger;
  /** How long past its deadline a claim stays leased before another instance may take over. */
  leaseGraceMs?: number;
}

class DeadlineError extends Error {}
class LostClaimError extends Error {}

const POLL_MS = 25;

/**
 * Executes tool calls, whatever transport brought them: validation, dedup, deadline, the
 * handler's context, error classification, metrics. Kafka and HTTP both end up here.
 */
export class ToolRuntime {
  private readonly tools: ToolProvider;
  private readonly dedup: DedupStore;
  private readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly shutdown = new AbortController();

  constructor(private readonly options: RuntimeOptions) {
    if (isToolProvider(options.tools)) {
      this.tools = options.tools;
    } else {
      const byName = new Map(options.tools.map((t) => [t.name, t]));
      if (byName.size !== options.tools.length)
        throw new Error(`service ${options.service} defines a tool name twice`);
      this.tools = { get: (name) => byName.get(name), list: () => [...byName.values()] };
    }
    this.dedup = new DedupStore(options.db);
  }

  get service(): string {
    return this.options.service;
  }

  list(): Tool[] {
    return this.tools.list();
  }

  /** Aborts running handlers (process shutdown); their claims are released for a retry. */
  abortAll(): void {
    this.shutdown.abort(new Error('tool consumer shutting down'));
  }

  async invoke(raw: unknown, transport: 'kafka' | 'http'): Promise<ToolReply> {
    const started = performance.now();
    const parsed = ToolCallRequested.safeParse(raw);
    const rawObj = (raw ?? {}) as { callId?: unknown; idempotencyKey?: unknown; tool?: unknown };
    const echo = {
      callId: typeof rawObj.callId === 'string' ? rawObj.callId : 'unknown',
      idempotencyKey:
        typeof rawObj.idempotencyKey === 'string' && rawObj.idempotencyKey.length >= 8
          ? rawObj.idempotencyKey
          : 'unknown-key',
      tool:
        typeof rawObj.tool === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(rawObj.tool)
          ? rawObj.tool
          : 'unknown',
    };
    const done = (reply: ToolReply, outcome: string, errorClass?: string) => {
      const labels = { service: this.service, tool: echo.tool };
      toolMetrics.calls().inc({ ...labels, outcome });
      if (errorClass) toolMetrics.errors().inc({ ...labels, class: errorClass });
      toolMetrics
        .duration()
        .observe({ ...labels, transport }, (performance.now() - started) / 1000);
      return reply;
    };
    const fail = (error: SafeError): ToolReply => {
      const failed: ToolCallFailed = {
        ...echo,
        error,
        durationMs: performance.now() - started,
        failedAt: new Date().toISOString(),
      };
      return done({ ok: false, failed }, 'failed', error.class);
    };
    const succeed = (output: unknown, deduplicated: boolean): ToolReply => {
      const completed: ToolCallCompleted = {
        ...echo,
        output,
        durationMs: performance.now() - started,
        deduplicated,
        completedAt: new Date().toISOString(),
      };
      return done({ ok: true, completed }, deduplicated ? 'deduplicated' : 'succeeded');
    };
    if (!parsed.success)
      return fail(
        validationError('invalid_request', 'the tool call request is invalid', parsed.error),
      );
    const call = parsed.data;
    const tool = this.tools.get(call.tool);
    if (!tool) {
      return fail({
        class: 'validation',
        code: 'unknown_tool',
        message: `${this.service} has no tool "${call.tool}" (it serves ${
          this.tools
            .list()
            .map((t) => t.name)
            .join(', ') || 'none yet'
        })`,
        retryable: false,
      });
    }
    const input = tool.input.safeParse(call.input);
    if (!input.success)
      return fail(validationError('invalid_input', `invalid input for ${tool.name}`, input.error));

    const deadline = Date.parse(call.deadline);
    if (deadline <= Date.now()) {
      // Too late to run, but a repeat of a finished call still gets its stored answer.
      const stored = await this.dedup.peek(call.idempotencyKey);
      if (stored?.status === 'completed') {
        toolMetrics.dedupHits().inc({ service: this.service, tool: tool.name });
        return succeed(stored.result, true);
      }
      return fail({
        class: 'timeout',
        code: 'deadline_passed',
        message: `the call's deadline ${call.deadline} had passed before it started`,
        retryable: true,
      });
    }

    const inputHash = createHash('sha256').update(JSON.stringify(call.input)).digest('hex');
    const leaseMs = deadline - Date.now() + (this.options.leaseGraceMs ?? 5_000);
    const log = this.options.logger.child({
      tool: tool.name,
      idempotencyKey: call.idempotencyKey,
      callId: call.callId,
    });

    // Claim the key, or wait for whoever holds it, or take a dead holder's claim over.
    for (;;) {
      const claim = await this.dedup.claim(
        call.idempotencyKey,
        tool.name,
        inputHash,
        this.owner,
        leaseMs,
      );
      if (claim.kind === 'owned') break;
      if (claim.kind === 'conflict') {
        return fail({
          class: 'validation',
          code: 'idempotency_key_reused',
          message: `idempotency key ${call.idempotencyKey} was already used for a different call (${claim.tool} with other input)`,
          retryable: false,
        });
      }
      if (claim.kind === 'done') {
        toolMetrics.dedupHits().inc({ service: this.service, tool: tool.name });
        if (claim.status === 'completed') {
          return succeed(claim.result, true);
        }
        return fail(claim.error as SafeError);
      }
      if (Date.now() + POLL_MS >= deadline) {
        return fail({
          class: 'timeout',
          code: 'still_running',
          message: `an earlier delivery of this call is still running; ask again with the same idempotency key`,
          retryable: true,
        });
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }

    const deadlineSignal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const signal = AbortSignal.any([deadlineSignal, this.shutdown.signal]);
    const renew = setInterval(
      () => void this.dedup.extend(call.idempotencyKey, this.owner, leaseMs).catch(() => undefined),
      Math.max(1000, leaseMs / 3),
    );
    let committed: { value: unknown } | undefined;
    // Over Kafka the bus already opened a consumer span joined to the caller's trace; reuse it.
    const active = trace.getActiveSpan();
    const span: Span =
      active ?? trace.getTracer('@toolbus/tool-sdk').startSpan(`tool ${tool.name}`);
    span.setAttributes({
      'toolbus.tool': tool.name,
      'toolbus.idempotency_key': call.idempotencyKey,
      'toolbus.tenant': call.tenant,
    });

    const ctx: ToolContext = {
      principal: call.principal,
      tenant: call.tenant,
      idempotencyKey: call.idempotencyKey,
      callId: call.callId,
      deadline,
      signal,
      logger: log,
      span,
      transaction: async <T>(fn: (em: EntityManager) => Promise<T>): Promise<T> => {
        if (committed)
          throw new Error('ctx.transaction may be used once per call: its value is the result');
        const value = await this.options.db.transaction(async (em) => {
          // The database gives up when the caller does: no statement or lock wait outlives the deadline.
          const budget = Math.max(1, Math.round(deadline - Date.now()) + 250);
          await em.query(`SET LOCAL statement_timeout = ${budget}`);
          await em.query(`SET LOCAL lock_timeout = ${budget}`);
          const v = await fn(em);
          const out = tool.output.safeParse(v);
          if (!out.success) throw new OutputError(out.error);
          // Past the deadline nobody waits for this answer: roll the effect back instead.
          if (signal.aborted) throw new DeadlineError();
          if (
            !(await this.dedup.finish(em, call.idempotencyKey, this.owner, 'completed', out.data))
          )
            throw new LostClaimError();
          return out.data as T;
        });
        committed = { value };
        // Crash-consistency tests need a process that dies after its effect is durable but before
        // it answers or commits the Kafka offset; a failpoint makes that moment exact.
        if (process.env['TOOLBUS_FAILPOINT'] === 'exit-after-commit') process.exit(137);
        return value;
      },
    };

    try {
      const result = await Promise.race([
        tool.handler(input.data, ctx),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new DeadlineError()), { once: true }),
        ),
      ]);
      let output: unknown;
      if (committed) {
        output = committed.value;
      } else {
        const out = tool.output.safeParse(result);
        if (!out.success) throw new OutputError(out.error);
        output = out.data;
        if (
          !(await this.dedup.finish(
            this.options.db,
            call.idempotencyKey,
            this.owner,
            'completed',
            output,
          ))
        )
          throw new LostClaimError();
      }
      return succeed(output, false);
    } catch (error) {
      if (committed) {
        // The effect and its result are durable; what failed came after. Answer with the result.
        return succeed(committed.value, false);
      }
      if (error instanceof DeadlineError || (signal.aborted && !this.shutdown.signal.aborted)) {
        await this.dedup.release(call.idempotencyKey, this.owner).catch(() => undefined);
        return fail({
          class: 'timeout',
          code: 'deadline_exceeded',
          message: `${tool.name} did not finish before its deadline; any late result was discarded`,
          retryable: true,
        });
      }
      if (error instanceof LostClaimError) {
        return fail({
          class: 'timeout',
          code: 'claim_lost',
          message:
            'this delivery ran past its lease and another took over; ask again with the same idempotency key',
          retryable: true,
        });
      }
      if (error instanceof OutputError) {
        log.error(
          { issues: error.issues.issues },
          'tool returned output that does not match its output schema',
        );
        const safe: SafeError = {
          class: 'internal',
          code: 'invalid_output',
          message: `${tool.name} returned output that does not match its output schema`,
          retryable: false,
        };
        await this.dedup
          .finish(this.options.db, call.idempotencyKey, this.owner, 'failed', null, safe)
          .catch(() => undefined);
        return fail(safe);
      }
      const { safe, ref } = classify(error);
      log[safe.class === 'internal' ? 'error' : 'warn'](
        { err: error, ref, errorClass: safe.class },
        'tool call failed',
      );
      if (safe.retryable)
        await this.dedup.release(call.idempotencyKey, this.owner).catch(() => undefined);
      else
        await this.dedup
          .finish(this.options.db, call.idempotencyKey, this.owner, 'failed', null, safe)
          .catch(() => undefined);
      return fail(safe);
    } finally {
      clearInterval(renew);
      if (!active) span.end();
    }
  }
}

class OutputError extends Error {
  constructor(readonly issues: ZodError) {
    super('invalid output');
  }
}
