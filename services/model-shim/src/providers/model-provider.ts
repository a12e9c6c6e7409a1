import type { ContentPart, ModelRequest, ToolCall, Usage } from '@toolbus/contracts';

/** One call to one provider, already routed, budgeted and clamped. */
export interface ProviderCall {
  request: ModelRequest;
  /** The provider's own model id (e.g. claude-sonnet-4-5, Qwen/Qwen2.5-7B-Instruct). */
  model: string;
  maxTokens: number;
  /** Aborted at the attempt's deadline. */
  signal: AbortSignal;
  /** Milliseconds this attempt may take. */
  timeoutMs: number;
}

export interface ProviderResult {
  content: ContentPart[];
  toolCalls: ToolCall[];
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal';
  usage: Usage;
  /** The model that answered, as the provider names it. */
  model: string;
}

/** A provider adapter: the only code that knows a provider's wire format. */
export interface ModelProvider {
  /** Route name, e.g. `anthropic`, `vllm`, `offline`. */
  readonly name: string;
  complete(call: ProviderCall): Promise<ProviderResult>;
  /** Exact input token count from the provider, when it has a count endpoint. */
  countTokens?(
    request: ModelRequest,
    model: string,
    signal: AbortSignal,
  ): Promise<number | undefined>;
}

/** How a provider failure is classified; decides retry and failover. */
export type ProviderErrorKind =
  | 'rate_limited' // 429: retry after the advised delay
  | 'overloaded' // 529 / 503: retry with backoff
  | 'server' // other 5xx: retry with backoff
  | 'timeout' // no answer in time: retry while the deadline allows
  | 'connection' // refused, reset: retry, then fail over
  | 'malformed' // unreadable answer: fail over at once
  | 'auth' // 401/403: misconfigured; fail over
  | 'invalid_request'; // 400/404/422: this provider rejects the request; fail over

const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set([
  'rate_limited',
  'overloaded',
  'server',
  'timeout',
  'connection',
]);

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly retryable: boolean;
  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    message: string,
    readonly status?: number,
    /** From retry-after / retry-after-ms, when the provider sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(`${provider}: ${message}`);
    this.retryable = RETRYABLE.has(kind);
  }
}

/** Parses `retry-after-ms` or `retry-after` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Classifies an HTTP status from a provider. */
export function kindOfStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 408) return 'timeout';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'server';
  return 'invalid_request';
}
