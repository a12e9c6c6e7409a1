import { randomUUID } from 'node:crypto';
import { trace, type Span } from '@opentelemetry/api';
import { ToolCallRequested, type SafeError } from '@toolbus/contracts';
import type { DataSource } from '@toolbus/persistence';
import type { Logger } from '@toolbus/observability';
import type { CallGrantVerifier } from '@toolbus/security';
import { CallAuthorizer } from './call-authorizer.js';
import type { Tool } from './define-tool.js';
import { DedupStore, dedupHash } from './dedup.js';
import {
  DeadlineError,
  handlerContext,
  LostClaimError,
  OutputError,
  type ClaimedCall,
  type GrantedCall,
  type HandlerDeps,
  type ParsedCall,
} from './handler-context.js';
import { isToolProvider, type ToolProvider } from './json-schema-tool.js';
import { classify, validationError } from './errors.js';
import { toolMetrics } from './metrics.js';
import { CallOutcome, type ToolReply } from './call-outcome.js';

export type { ToolReply } from './call-outcome.js';

/** Moments of a call that tests may act on (crash-consistency tests kill the process there). */
export interface RuntimeHooks {
  /** The effect and its dedup record are committed; nothing is answered or acknowledged yet. */
  afterCommit?(call: ToolCallRequested): void;
}

export interface RuntimeOptions {
  service: string;
  /** A fixed list, or a provider looked up on every call (tools known only at run time). */
  tools: Tool[] | ToolProvider;
  db: DataSource;
  logger: Logger;
  /** Verifies each call's grant; audience: this service. */
  grants: CallGrantVerifier;
  /** Region of tools that name none (the consumer's `TOOL_REGION`). */
  region: string;
  /** A deadline is capped at arrival + the tool's `timeoutMs` + this. Default 1000. */
  deadlineGraceMs?: number;
  /** How long past its deadline a claim stays leased before another instance may take over. */
  leaseGraceMs?: number;
  hooks?: RuntimeHooks;
}

const POLL_MS = 25;

/**
 * Executes tool calls, whatever transport brought them, in five steps: parse (the request,
 * the tool, its input, the deadline), authorize (the call grant: who calls, for which tenant
 * and region, with which scopes), claim (the tenant's idempotency key, or a stored outcome),
 * execute (the handler under its deadline, its effect committed with the dedup record), and
 * settle (answer, and leave the dedup record finished, failed or released for a retry). Kafka
 * and HTTP both end up here.
 */
export class ToolRuntime {
  private readonly tools: ToolProvider;
  private readonly dedup: DedupStore;
  private readonly authorizer: CallAuthorizer;
  private readonly handlerDeps: HandlerDeps;
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
    this.authorizer = new CallAuthorizer(
      options.grants,
      options.service,
      options.region,
      options.logger,
    );
    this.handlerDeps = {
      db: options.db,
      dedup: this.dedup,
      owner: this.owner,
      afterCommit: (call) => options.hooks?.afterCommit?.(call),
    };
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
    const outcome = new CallOutcome(this.service, raw, transport);
    const parsed = this.parse(raw, outcome);
    if ('failed' in parsed) return parsed.failed;
    const granted = await this.authorize(parsed, outcome);
    if ('failed' in granted) return granted.failed;
    if (granted.deadline <= Date.now()) return this.answerLate(granted, outcome);
    const claimed = await this.claim(granted, outcome);
    if ('reply' in claimed) return claimed.reply;
    return this.execute(claimed, outcome);
  }

  /** Step 1: the request, the tool it names and the input, each valid, or a validation failure. */
  private parse(raw: unknown, outcome: CallOutcome): ParsedCall | { failed: ToolReply } {
    const parsed = ToolCallRequested.safeParse(raw);
    if (!parsed.success)
      return {
        failed: outcome.fail(
          validationError('invalid_request', 'the tool call request is invalid', parsed.error),
        ),
      };
    const call = parsed.data;
    const tool = this.tools.get(call.tool);
    if (!tool) {
      const served = this.tools
        .list()
        .map((t) => t.name)
        .join(', ');
      return {
        failed: outcome.fail({
          class: 'validation',
          code: 'unknown_tool',
          message: `${this.service} has no tool "${call.tool}" (it serves ${served || 'none yet'})`,
          retryable: false,
        }),
      };
    }
    const input = tool.input.safeParse(call.input);
    if (!input.success)
      return {
        failed: outcome.fail(
          validationError('invalid_input', `invalid input for ${tool.name}`, input.error),
        ),
      };
    // However late the caller asks for, a call may not hold its lease past what the tool needs.
    const cap = Date.now() + (tool.timeoutMs ?? 2000) + (this.options.deadlineGraceMs ?? 1000);
    return { call, tool, input: input.data, deadline: Math.min(Date.parse(call.deadline), cap) };
  }

  /**
   * Step 2: the call's grant, or a refusal that reaches neither the handler nor the dedup
   * table. The dedup key is the grant's tenant's; its hash binds the grant's principal.
   */
  private async authorize(
    parsed: ParsedCall,
    outcome: CallOutcome,
  ): Promise<GrantedCall | { failed: ToolReply }> {
    const result = await this.authorizer.authorize(parsed.call, parsed.tool);
    if ('refused' in result) return { failed: outcome.fail(result.refused) };
    const { granted } = result;
    return {
      ...parsed,
      granted,
      key: { tenant: granted.tenant, key: parsed.call.idempotencyKey },
      callHash: dedupHash(parsed.tool.name, granted.principal, parsed.call.input),
    };
  }

  /** Too late to run; a repeat of a finished call still gets its stored answer. */
  private async answerLate(parsed: GrantedCall, outcome: CallOutcome): Promise<ToolReply> {
    const stored = await this.dedup.peek(parsed.key, parsed.callHash);
    if (stored?.status === 'completed') {
      toolMetrics.dedupHits().inc({ service: this.service, tool: parsed.tool.name });
      return outcome.succeed(stored.result, true);
    }
    return outcome.fail({
      class: 'timeout',
      code: 'deadline_passed',
      message: `the call's deadline ${parsed.call.deadline} had passed before it started`,
      retryable: true,
    });
  }

  /**
   * Step 3: claims the key, or answers from the stored outcome, or waits for whoever holds it
   * (taking a dead holder's claim over once its lease lapses), or gives up at the deadline.
   */
  private async claim(
    parsed: GrantedCall,
    outcome: CallOutcome,
  ): Promise<ClaimedCall | { reply: ToolReply }> {
    const { call, tool, deadline, key } = parsed;
    const leaseMs = deadline - Date.now() + (this.options.leaseGraceMs ?? 5_000);
    for (;;) {
      const claim = await this.dedup.claim(key, tool.name, parsed.callHash, this.owner, leaseMs);
      if (claim.kind === 'owned') break;
      if (claim.kind === 'conflict') {
        return {
          reply: outcome.fail({
            class: 'validation',
            code: 'idempotency_key_reused',
            message: `idempotency key ${call.idempotencyKey} was already used for a different call (of ${claim.tool}, by another caller or with other input)`,
            retryable: false,
          }),
        };
      }
      if (claim.kind === 'done') {
        toolMetrics.dedupHits().inc({ service: this.service, tool: tool.name });
        return {
          reply:
            claim.status === 'completed'
              ? outcome.succeed(claim.result, true)
              : outcome.fail(claim.error as SafeError),
        };
      }
      if (Date.now() + POLL_MS >= deadline) {
        return {
          reply: outcome.fail({
            class: 'timeout',
            code: 'still_running',
            message: `an earlier delivery of this call is still running; ask again with the same idempotency key`,
            retryable: true,
          }),
        };
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const log = this.options.logger.child({
      tool: tool.name,
      idempotencyKey: call.idempotencyKey,
      callId: call.callId,
    });
    const signal = AbortSignal.any([
      AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      this.shutdown.signal,
    ]);
    return { ...parsed, leaseMs, log, signal };
  }

  /** Step 4: the handler under its deadline, the lease renewed while it runs, inside a span. */
  private async execute(claimed: ClaimedCall, outcome: CallOutcome): Promise<ToolReply> {
    const { call, tool, leaseMs } = claimed;
    const renew = setInterval(
      () => void this.dedup.extend(claimed.key, this.owner, leaseMs).catch(() => undefined),
      Math.max(1000, leaseMs / 3),
    );
    // Over Kafka the bus already opened a consumer span joined to the caller's trace; reuse it.
    const active = trace.getActiveSpan();
    const span: Span =
      active ?? trace.getTracer('@toolbus/tool-sdk').startSpan(`tool ${tool.name}`);
    span.setAttributes({
      'toolbus.tool': tool.name,
      'toolbus.idempotency_key': call.idempotencyKey,
      'toolbus.tenant': claimed.granted.tenant,
    });
    const committed: { value?: { output: unknown } } = {};
    try {
      const result = await Promise.race([
        tool.handler(claimed.input, handlerContext(this.handlerDeps, claimed, span, committed)),
        new Promise<never>((_, reject) =>
          claimed.signal.addEventListener('abort', () => reject(new DeadlineError()), {
            once: true,
          }),
        ),
      ]);
      return await this.settleSuccess(claimed, outcome, result, committed.value);
    } catch (error) {
      return await this.settleFailure(claimed, outcome, error, committed.value);
    } finally {
      clearInterval(renew);
      if (!active) span.end();
    }
  }

  /** Step 5 (success): the committed result, or the handler's output checked and recorded. */
  private async settleSuccess(
    claimed: ClaimedCall,
    outcome: CallOutcome,
    result: unknown,
    committed: { output: unknown } | undefined,
  ): Promise<ToolReply> {
    if (committed) return outcome.succeed(committed.output, false);
    const out = claimed.tool.output.safeParse(result);
    if (!out.success) throw new OutputError(out.error);
    const recorded = await this.dedup.finish(
      this.options.db,
      claimed.key,
      this.owner,
      'completed',
      out.data,
    );
    if (!recorded) throw new LostClaimError();
    return outcome.succeed(out.data, false);
  }

  /**
   * Step 5 (failure): a committed effect still answers with its result; a timeout or a
   * retryable error releases the claim for a retry; anything else is recorded as failed, so a
   * repeat gets the same answer.
   */
  private async settleFailure(
    claimed: ClaimedCall,
    outcome: CallOutcome,
    error: unknown,
    committed: { output: unknown } | undefined,
  ): Promise<ToolReply> {
    const { tool, signal, log, key } = claimed;
    // The effect and its result are durable; what failed came after. Answer with the result.
    if (committed) return outcome.succeed(committed.output, false);
    if (error instanceof DeadlineError || (signal.aborted && !this.shutdown.signal.aborted)) {
      await this.dedup.release(key, this.owner).catch(() => undefined);
      return outcome.fail({
        class: 'timeout',
        code: 'deadline_exceeded',
        message: `${tool.name} did not finish before its deadline; any late result was discarded`,
        retryable: true,
      });
    }
    if (error instanceof LostClaimError) {
      return outcome.fail({
        class: 'timeout',
        code: 'claim_lost',
        message:
          'this delivery ran past its lease and another took over; ask again with the same idempotency key',
        retryable: true,
      });
    }
    let safe: SafeError;
    if (error instanceof OutputError) {
      log.error(
        { issues: error.issues.issues },
        'tool returned output that does not match its output schema',
      );
      safe = {
        class: 'internal',
        code: 'invalid_output',
        message: `${tool.name} returned output that does not match its output schema`,
        retryable: false,
      };
    } else {
      const classified = classify(error);
      safe = classified.safe;
      log[safe.class === 'internal' ? 'error' : 'warn'](
        { err: error, ref: classified.ref, errorClass: safe.class },
        'tool call failed',
      );
    }
    if (safe.retryable) await this.dedup.release(key, this.owner).catch(() => undefined);
    else
      await this.dedup
        .finish(this.options.db, key, this.owner, 'failed', null, safe)
        .catch(() => undefined);
    return outcome.fail(safe);
  }
}
