import { createHash, randomUUID } from 'node:crypto';
import {
  validationError,
  ToolInvocationRequested,
  type SafeError,
  type ToolInvocationAnswered,
} from '@toolbus/contracts';
import type { TenantSettings } from '@toolbus/policy';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import type { ToolCalls } from '../calls/tool-call.js';
import { invocationBinding, toolListBinding, type EdgeTrust } from '../edge/edge-trust.js';

/** A tool as a caller that brings its own model lists it (MCP `tools/list`). */
export interface ListedTool {
  name: string;
  version: string;
  title: string;
  description: string;
  inputSchema: unknown;
  annotations: unknown;
  sync: boolean;
}

const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Direct tool calls, for MCP clients that bring their own model and for REST callers: the
 * request validated, the caller believed only through the gateway's assertion, the deadline
 * the caller's or the tool's own timeout, then the same governed call as a model's. Bad input
 * and an untrusted caller are answered as refusals that say what was wrong; nothing runs.
 */
export class InvocationService {
  constructor(
    private readonly tools: ToolCalls,
    private readonly catalog: ToolCatalog,
    private readonly trust: EdgeTrust,
    private readonly settingsOf: (tenant: string) => TenantSettings,
  ) {}

  /**
   * The tools this caller may call, one version each, by the same rules as a call (approved,
   * scopes covered, region allowed): what an MCP client is offered. The caller is believed only
   * through the gateway's assertion for a listing.
   */
  async list(
    assertion: string | undefined,
  ): Promise<{ tools: ListedTool[] } | { refusal: string }> {
    const trusted = await this.trust.principalOf(assertion, toolListBinding());
    if ('refusal' in trusted) return trusted;
    const { principal } = trusted;
    const tools = this.catalog.usable(principal, this.settingsOf(principal.tenant));
    return {
      tools: tools.map((t) => ({
        name: t.name,
        version: t.version,
        title: t.title,
        description: t.description,
        inputSchema: t.inputSchema,
        annotations: t.annotations,
        sync: t.sync,
      })),
    };
  }

  /**
   * Runs one direct call. `delivery` is the bus message that carried it: a call that names no
   * idempotency key gets one derived from the message's id, so the same message delivered again
   * (the replica that took it died mid-call) is the same logical call and never a second effect.
   * Over HTTP nothing is delivered again; a keyless call there gets a key of its own, answered.
   */
  async invoke(raw: unknown, delivery?: { id: string }): Promise<ToolInvocationAnswered> {
    const started = performance.now();
    const parsed = ToolInvocationRequested.safeParse(raw);
    const echo = echoOf(raw);
    const refuse = (error: SafeError): ToolInvocationAnswered => ({
      ...echo,
      outcome: 'refused',
      error,
      durationMs: performance.now() - started,
      answeredAt: new Date().toISOString(),
    });
    if (!parsed.success)
      return refuse(
        validationError('invalid_invocation', 'the tool invocation is invalid', parsed.error),
      );
    const request = parsed.data;
    const trusted = await this.trust.principalOf(
      request.principalAssertion,
      invocationBinding(request),
      request.principal,
    );
    if ('refusal' in trusted)
      return refuse({
        class: 'forbidden',
        code: 'untrusted_caller',
        message: trusted.refusal,
        retryable: false,
      });
    const { principal } = trusted;
    const settings = this.settingsOf(principal.tenant);
    const resolved = this.catalog.resolve(request.tool, principal, settings, request.toolVersion);
    const timeoutMs = 'tool' in resolved ? resolved.tool.timeoutMs : DEFAULT_TIMEOUT_MS;
    const deadline = request.deadline
      ? Math.min(Date.parse(request.deadline), Date.now() + timeoutMs)
      : Date.now() + timeoutMs;
    if (deadline <= Date.now())
      return refuse({
        class: 'timeout',
        code: 'deadline_passed',
        message: `the invocation's deadline ${request.deadline} has passed`,
        retryable: false,
      });
    const key =
      request.idempotencyKey ?? (delivery ? deliveryKey(delivery.id) : `inv:${randomUUID()}`);
    const result = await this.tools.run({
      tool: request.tool,
      ...(request.toolVersion ? { version: request.toolVersion } : {}),
      input: request.input,
      principal,
      tenantSettings: settings,
      idempotencyKey: key,
      deadline,
      ...(request.contextId ? { contextId: request.contextId } : {}),
    });
    return {
      tool: request.tool,
      ...(result.toolVersion ? { toolVersion: result.toolVersion } : {}),
      idempotencyKey: key,
      outcome: result.outcome,
      ...(result.output !== undefined ? { output: result.output } : {}),
      ...(result.error ? { error: result.error } : {}),
      ...(result.stale ? { stale: result.stale } : {}),
      durationMs: performance.now() - started,
      answeredAt: new Date().toISOString(),
    };
  }
}

/** The idempotency key of a keyless call delivered as the bus message `messageId`. */
export function deliveryKey(messageId: string): string {
  return `inv:${createHash('sha256').update(messageId).digest('hex').slice(0, 40)}`;
}

/** What of a broken request can safely be echoed in its answer. */
function echoOf(raw: unknown): Pick<ToolInvocationAnswered, 'tool' | 'idempotencyKey'> {
  const r = (raw ?? {}) as { tool?: unknown; idempotencyKey?: unknown };
  return {
    tool: typeof r.tool === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(r.tool) ? r.tool : 'unknown',
    idempotencyKey:
      typeof r.idempotencyKey === 'string' && /^[A-Za-z0-9._:-]{8,200}$/.test(r.idempotencyKey)
        ? r.idempotencyKey
        : 'unknown-key',
  };
}
