import type { SafeError, ToolCallCompleted, ToolCallFailed } from '@toolbus/contracts';
import { toolMetrics } from './metrics.js';

export type ToolReply =
  { ok: true; completed: ToolCallCompleted } | { ok: false; failed: ToolCallFailed };

/**
 * The answer to one call, whatever step ends it: the ids echoed from the request (safe
 * placeholders when the request was too broken to name them), duration and metrics.
 */
export class CallOutcome {
  private readonly started = performance.now();
  private readonly echo: { callId: string; idempotencyKey: string; tool: string };

  constructor(
    private readonly service: string,
    raw: unknown,
    private readonly transport: 'kafka' | 'http',
  ) {
    const request = (raw ?? {}) as { callId?: unknown; idempotencyKey?: unknown; tool?: unknown };
    this.echo = {
      callId: typeof request.callId === 'string' ? request.callId : 'unknown',
      idempotencyKey:
        typeof request.idempotencyKey === 'string' && request.idempotencyKey.length >= 8
          ? request.idempotencyKey
          : 'unknown-key',
      tool:
        typeof request.tool === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(request.tool)
          ? request.tool
          : 'unknown',
    };
  }

  succeed(output: unknown, deduplicated: boolean): ToolReply {
    const completed: ToolCallCompleted = {
      ...this.echo,
      output,
      durationMs: performance.now() - this.started,
      deduplicated,
      completedAt: new Date().toISOString(),
    };
    return this.done({ ok: true, completed }, deduplicated ? 'deduplicated' : 'succeeded');
  }

  fail(error: SafeError): ToolReply {
    const failed: ToolCallFailed = {
      ...this.echo,
      error,
      durationMs: performance.now() - this.started,
      failedAt: new Date().toISOString(),
    };
    return this.done({ ok: false, failed }, 'failed', error.class);
  }

  private done(reply: ToolReply, outcome: string, errorClass?: string): ToolReply {
    const labels = { service: this.service, tool: this.echo.tool };
    toolMetrics.calls().inc({ ...labels, outcome });
    if (errorClass) toolMetrics.errors().inc({ ...labels, class: errorClass });
    toolMetrics
      .duration()
      .observe({ ...labels, transport: this.transport }, (performance.now() - this.started) / 1000);
    return reply;
  }
}
