import { egressRefusalOf, type EgressFetch } from '@toolbus/egress';
import { BusinessError } from '@toolbus/tool-sdk';
import type { AppliedCredentials, MappedRequest } from './request-mapping.js';
import { retryAfterMs, safeExcerpt } from './response-text.js';
import { CallAborted, egressError, tooLarge, TransientFailure } from './upstream-errors.js';
import { decode, readBody, type UpstreamAnswer } from './upstream-response.js';

/** Answers that say "not now" rather than "no": retried for idempotent methods. */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);
/** How much of an error body is read for its excerpt. */
const ERROR_BODY_BYTES = 8 * 1024;

export interface AttemptOptions {
  /** The operation's description, for errors. */
  operation: string;
  /** How long this attempt may take (the tool's timeoutMs). */
  timeoutMs: number;
  /** The call's signal: its deadline and shutdown. */
  callSignal: AbortSignal;
  credentials: AppliedCredentials;
  /** Largest 2xx body accepted (HTTP_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** The guarded fetch (libs/egress): refuses internal addresses unless EGRESS_ALLOW lists them. */
  fetch: EgressFetch;
}

/**
 * Sends the request once. A connection error, a timeout of this attempt and a retried status
 * become a {@link TransientFailure} (which another attempt may cure), the call's own signal
 * {@link CallAborted}; a 2xx body over the limit is refused, and so is an upstream that resolves
 * to an internal address (never retried: the answer would be the same). Redirects are not
 * followed.
 */
export async function attemptOnce(
  request: MappedRequest,
  options: AttemptOptions,
): Promise<UpstreamAnswer> {
  const { callSignal } = options;
  if (callSignal.aborted) throw new CallAborted();
  const attemptSignal = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([callSignal, attemptSignal]);
  try {
    const response = await options.fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
      // A redirect could carry the credentials to another server: it is reported instead.
      redirect: 'manual',
    });
    if (RETRIED_STATUSES.has(response.status)) throw await retriedStatus(response, options);
    return await readAnswer(response, options);
  } catch (error) {
    if (error instanceof TransientFailure || error instanceof BusinessError) throw error;
    const refused = egressRefusalOf(error);
    if (refused) throw egressError(options.operation, refused);
    if (callSignal.aborted) throw new CallAborted();
    if (attemptSignal.aborted) throw new TransientFailure('timeout', {});
    const cause = networkCause(error);
    if (cause) throw new TransientFailure('connection', { cause });
    throw error;
  }
}

async function retriedStatus(
  response: Response,
  options: AttemptOptions,
): Promise<TransientFailure> {
  const { body, truncated } = await readBody(response, ERROR_BODY_BYTES);
  return new TransientFailure('status', {
    status: response.status,
    excerpt: safeExcerpt(decode(body, response.headers), options.credentials.secrets, truncated),
    retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
  });
}

/** The body up to its limit: the configured one for a 2xx (refused beyond), a little for errors. */
async function readAnswer(response: Response, options: AttemptOptions): Promise<UpstreamAnswer> {
  const ok = response.status >= 200 && response.status < 300;
  const limit = ok ? options.maxResponseBytes : ERROR_BODY_BYTES;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (ok && declared > limit) {
    void response.body?.cancel().catch(() => undefined);
    throw tooLarge(options.operation, limit);
  }
  const { body, truncated } = await readBody(response, limit);
  if (ok && truncated) throw tooLarge(options.operation, limit);
  return { status: response.status, headers: response.headers, body, truncated };
}

/** The code of a connection-level failure fetch reports as `TypeError: fetch failed`. */
function networkCause(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || error.cause === undefined) return undefined;
  const cause = error.cause as { code?: unknown; name?: unknown };
  if (typeof cause.code === 'string') return cause.code;
  return typeof cause.name === 'string' ? cause.name : 'network error';
}
