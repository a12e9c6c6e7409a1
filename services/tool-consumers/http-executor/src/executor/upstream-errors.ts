import { STATUS_CODES } from 'node:http';
import type { HttpBinding } from '@toolbus/contracts';
import type { EgressRefusedError } from '@toolbus/egress';
import { BusinessError, RetryableToolError } from '@toolbus/tool-sdk';
import { isIdempotent, type AppliedCredentials } from './request-mapping.js';
import { safeExcerpt } from './response-text.js';
import { decode, type UpstreamAnswer } from './upstream-response.js';

// The errors a failed call ends in, as a model reads them: what was called (its template,
// never the input), what happened, and an excerpt of the answer with every credential redacted.

interface TransientDetails {
  status?: number;
  excerpt?: string;
  /** What Retry-After asked for. */
  retryAfterMs?: number;
  /** A connection error's code (ECONNREFUSED, UND_ERR_SOCKET...). */
  cause?: string;
}

/** One attempt failed in a way another attempt may not: a connection error, a timeout, a 503. */
export class TransientFailure extends Error {
  /** Set when the upstream's Retry-After (or the backoff) would end past the deadline. */
  waitBeyondDeadlineMs?: number;
  constructor(
    readonly kind: 'status' | 'timeout' | 'connection',
    readonly details: TransientDetails,
  ) {
    super(`upstream ${kind} failure`);
  }
}

/** The call's own signal fired (its deadline passed, or the consumer is shutting down). */
export class CallAborted extends Error {}

/** `GET https://api.acme.com/v2/customers/{id}`: the template, never the input or a credential. */
export function describeOperation(binding: HttpBinding): string {
  const base = new URL(binding.baseUrl);
  return `${binding.method} ${base.origin}${base.pathname.replace(/\/+$/, '')}${binding.path}`;
}

export function tooLarge(operation: string, limit: number): BusinessError {
  return new BusinessError(
    'upstream_response_too_large',
    `${operation} answered with more than ${limit} bytes, the most this executor accepts (HTTP_MAX_RESPONSE_BYTES); the response was refused`,
  );
}

/** The upstream resolves to an internal address EGRESS_ALLOW does not list: nothing was sent. */
export function egressError(operation: string, refusal: EgressRefusedError): BusinessError {
  return new BusinessError(
    'egress_refused',
    `${operation} was not called: ${refusal.message}`,
    'forbidden',
  );
}

/** The binding pairs its credential with an origin CREDENTIAL_ORIGINS does not list for it. */
export function credentialOriginError(tool: string, problem: string): BusinessError {
  return new BusinessError(
    'credential_origin',
    `${tool} was not called: ${problem}; the credential was not sent`,
    'forbidden',
  );
}

function attemptsNote(attempts: number): string {
  return attempts > 1 ? ` (${attempts} attempts)` : '';
}

function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

/** The call's signal fired: its deadline passed, or it was cancelled (shutdown). */
export function abortedError(
  operation: string,
  attempts: number,
  deadlinePassed: boolean,
): RetryableToolError {
  if (deadlinePassed)
    return new RetryableToolError(
      'deadline_exceeded',
      `${operation} had not answered when the call's deadline passed${attemptsNote(attempts)}`,
    );
  return new RetryableToolError('cancelled', `the call to ${operation} was cancelled`);
}

/** The last transient failure, once no attempt is left or none would fit the deadline. */
export function transientError(
  failure: TransientFailure,
  operation: string,
  method: string,
  attempts: number,
  timeoutMs: number,
): RetryableToolError {
  const notes = [
    attempts > 1 ? `${attempts} attempts` : undefined,
    !isIdempotent(method) ? `not retried: ${method} is not idempotent` : undefined,
    failure.waitBeyondDeadlineMs !== undefined && failure.details.retryAfterMs !== undefined
      ? `it asked to retry after ${Math.ceil(failure.details.retryAfterMs / 1000)} s, past the call's deadline`
      : undefined,
  ].filter(Boolean);
  const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  switch (failure.kind) {
    case 'timeout':
      return new RetryableToolError(
        'upstream_timeout',
        `${operation} did not answer within ${timeoutMs} ms${note}`,
      );
    case 'connection':
      return new RetryableToolError(
        'upstream_unreachable',
        `${operation} could not be reached (${failure.details.cause})${note}`,
      );
    case 'status': {
      const status = failure.details.status ?? 0;
      const excerpt = failure.details.excerpt ? `: ${failure.details.excerpt}` : '';
      return new RetryableToolError(
        `upstream_${status}`,
        `${operation} answered ${statusText(status)}${note}${excerpt}`,
      );
    }
  }
}

/** A non-2xx answer that was not retried, as the error the model reads. */
export function statusError(
  answer: UpstreamAnswer,
  operation: string,
  binding: HttpBinding,
  credentials: AppliedCredentials,
): Error {
  const { status } = answer;
  const excerptText = safeExcerpt(
    decode(answer.body, answer.headers),
    credentials.secrets,
    answer.truncated,
  );
  const excerpt = excerptText ? `: ${excerptText}` : '';
  const code = `upstream_${status}`;
  const answered = `${operation} answered ${statusText(status)}`;
  if (status === 401 || status === 403) {
    const which = binding.credentialsSecret
      ? `the configured credentials (secret "${binding.credentialsSecret}")`
      : 'the call: no credentials are configured for it';
    return new BusinessError(
      code,
      `${answered}: the upstream refused ${which}${excerpt}`,
      'forbidden',
    );
  }
  if (status === 404) return new BusinessError(code, `${answered}${excerpt}`, 'not_found');
  if (status >= 500) return new RetryableToolError(code, `${answered}${excerpt}`);
  if (status >= 300 && status < 400)
    return new BusinessError(
      code,
      `${answered}: a redirect, which the executor does not follow so credentials never leave the configured server`,
    );
  return new BusinessError(code, `${answered}${excerpt}`);
}

/** A 2xx answer whose data the tool's output schema refuses; at most ten issues are named. */
export function outputMismatchError(
  operation: string,
  tool: string,
  issues: readonly string[],
): BusinessError {
  const more = issues.length > 10 ? `; and ${issues.length - 10} more` : '';
  return new BusinessError(
    'upstream_response_invalid',
    `${operation} answered with data that does not match the output schema of ${tool}: ${issues.slice(0, 10).join('; ')}${more}`,
  );
}
