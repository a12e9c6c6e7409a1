import { STATUS_CODES } from 'node:http';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  DelegateBackoff,
  ExponentialBackoff,
  handleWhen,
  retry,
  type IBackoff,
  type IBackoffFactory,
} from 'cockatiel';
import type { HttpBinding, ToolDefinition } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import { BusinessError, RetryableToolError, type ToolContext } from '@toolbus/tool-sdk';
import {
  mapRequest,
  NO_CREDENTIALS,
  type AppliedCredentials,
  type MappedRequest,
} from './request-mapping.js';
import { isJsonContentType, retryAfterMs, safeExcerpt, secretForms } from './response-text.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** Where credentials come from: `SecretStore` of `@toolbus/security` in production. */
export interface SecretReader {
  /** The value of `key` in the mounted secret `secret`; rejects when it is not mounted. */
  read(secret: string, key: string): Promise<string>;
}

export interface HttpToolExecutorOptions {
  secrets: SecretReader;
  /** Attempts of an idempotent call, the first included (HTTP_RETRY_ATTEMPTS). */
  retryAttempts: number;
  /** Scale of the backoff between attempts, in ms (HTTP_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** Largest response body accepted, in bytes after decompression (HTTP_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  logger: Logger;
}

/** The span a call runs in (the SDK's `ctx.span`): attributes, retry events, trace context. */
export type CallSpan = Pick<ToolContext['span'], 'setAttributes' | 'addEvent' | 'spanContext'>;

export interface ExecuteOptions {
  /** Epoch milliseconds after which the result is no longer wanted: bounds every retry. */
  deadline: number;
  /** Aborts the call (the SDK's `ctx.signal`: the deadline and shutdown). */
  signal?: AbortSignal;
  /** Sent as `Idempotency-Key` on POST and PATCH, so an upstream that supports it can dedup. */
  idempotencyKey?: string;
  /** The call's logger (with its tool, key and call id). */
  logger?: Logger;
  span?: CallSpan;
}

/** Methods that may be sent again without changing the effect (RFC 9110, section 9.2.2). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
]);
/** Answers that say "not now" rather than "no": retried for idempotent methods. */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);
/** How much of an error body is read for its excerpt. */
const ERROR_BODY_BYTES = 8 * 1024;
/** Another attempt needs at least this much time before the deadline to be worth starting. */
const MIN_ATTEMPT_MS = 20;
const MAX_BACKOFF_MS = 10_000;

interface TransientDetails {
  status?: number;
  excerpt?: string;
  /** What Retry-After asked for. */
  retryAfterMs?: number;
  /** A connection error's code (ECONNREFUSED, UND_ERR_SOCKET...). */
  cause?: string;
}

/** One attempt failed in a way another attempt may not: a connection error, a timeout, a 503. */
class TransientFailure extends Error {
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
class CallAborted extends Error {}

interface UpstreamAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body was cut at the read limit. */
  truncated: boolean;
}

/**
 * Runs a tool imported from an OpenAPI document: maps its input onto the REST operation in
 * `definition.binding`, presents the credentials read from the mounted secret, retries what is
 * safe to retry within the call's deadline, and turns the answer into the tool's output (checked
 * against its output schema) or into an error a model can read, without ever showing a secret.
 */
export class HttpToolExecutor {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  private readonly validators = new WeakMap<object, ValidateFunction>();
  private readonly backoff: IBackoffFactory<unknown>;

  constructor(private readonly options: HttpToolExecutorOptions) {
    addFormats(this.ajv);
    // Decorrelated jitter (cockatiel's default generator): exponential growth, spread out so
    // that callers retrying together do not hit the upstream together.
    this.backoff = new ExponentialBackoff({
      initialDelay: options.retryBaseMs,
      maxDelay: MAX_BACKOFF_MS,
    });
  }

  /**
   * Checks that a definition can be executed and compiles its output schema; throws, saying
   * why, when it cannot. `execute` does the same on first use; the catalog calls it early.
   */
  prepare(definition: ToolDefinition): void {
    httpBindingOf(definition);
    this.outputValidator(definition);
  }

  /** Calls the upstream operation and returns the tool's output. */
  async execute(
    definition: ToolDefinition,
    input: Record<string, unknown>,
    options: ExecuteOptions,
  ): Promise<unknown> {
    const binding = httpBindingOf(definition);
    // The SDK's call logger already names the tool (and the key and call id).
    const log = options.logger
      ? options.logger.child({ toolVersion: definition.version })
      : this.options.logger.child({ tool: definition.name, toolVersion: definition.version });
    const operation = describeOperation(binding);
    const credentials = await this.credentials(definition, binding, log);
    const request = mapRequest(definition.name, binding, input, credentials);
    if (options.idempotencyKey && !IDEMPOTENT_METHODS.has(binding.method))
      request.headers.set('idempotency-key', options.idempotencyKey);
    const traceContext = options.span?.spanContext();
    if (traceContext && !/^0+$/.test(traceContext.traceId))
      request.headers.set(
        'traceparent',
        `00-${traceContext.traceId}-${traceContext.spanId}-${traceContext.traceFlags.toString(16).padStart(2, '0')}`,
      );
    const validate = this.outputValidator(definition);
    options.span?.setAttributes({
      'http.request.method': binding.method,
      'url.template': binding.path,
      'server.address': request.url.hostname,
    });

    const deadlineSignal = AbortSignal.timeout(Math.max(1, options.deadline - Date.now()));
    const callSignal = options.signal
      ? AbortSignal.any([options.signal, deadlineSignal])
      : deadlineSignal;
    const attempts = IDEMPOTENT_METHODS.has(binding.method) ? this.options.retryAttempts : 1;
    let attempt = 0;
    let backoff: IBackoff<unknown> | undefined;
    let nextDelayMs = 0;
    // The filter decides, after each failure, whether another attempt fits before the deadline;
    // the backoff then waits exactly the delay it chose (Retry-After when the upstream sent one).
    const policy = retry(
      handleWhen((error) => {
        if (!(error instanceof TransientFailure) || attempt >= attempts || callSignal.aborted)
          return false;
        backoff = backoff ? backoff.next(undefined) : this.backoff.next(undefined);
        const delayMs = error.details.retryAfterMs ?? Math.round(backoff.duration);
        if (Date.now() + delayMs + MIN_ATTEMPT_MS >= options.deadline) {
          error.waitBeyondDeadlineMs = delayMs;
          return false;
        }
        nextDelayMs = delayMs;
        log.warn(
          { operation, attempt, reason: error.kind, ...error.details, delayMs },
          'upstream call failed; retrying',
        );
        options.span?.addEvent('retry', { attempt, reason: error.kind, delay_ms: delayMs });
        return true;
      }),
      { maxAttempts: attempts - 1, backoff: new DelegateBackoff(() => nextDelayMs) },
    );

    let answer: UpstreamAnswer;
    try {
      answer = await untilAborted(
        policy.execute(() => {
          attempt += 1;
          return this.attempt(request, operation, definition.timeoutMs, callSignal, credentials);
        }, callSignal),
        callSignal,
      );
    } catch (error) {
      options.span?.setAttributes({ 'toolbus.http.attempts': attempt });
      if (error instanceof TransientFailure)
        throw transientError(error, operation, binding.method, attempt, definition.timeoutMs);
      if (error instanceof CallAborted || callSignal.aborted) {
        if (deadlineSignal.aborted || Date.now() >= options.deadline)
          throw new RetryableToolError(
            'deadline_exceeded',
            `${operation} had not answered when the call's deadline passed${attemptsNote(attempt)}`,
          );
        throw new RetryableToolError('cancelled', `the call to ${operation} was cancelled`);
      }
      throw error;
    }
    options.span?.setAttributes({
      'toolbus.http.attempts': attempt,
      'http.response.status_code': answer.status,
    });
    if (answer.status < 200 || answer.status >= 300)
      throw statusError(answer, operation, binding, credentials);
    const output = parseOutput(answer, operation, binding.method);
    if (validate && !validate(output)) {
      const issues = (validate.errors ?? []).map(describeIssue);
      log.warn({ operation, issues }, 'upstream answer does not match the output schema');
      throw new BusinessError(
        'upstream_response_invalid',
        `${operation} answered with data that does not match the output schema of ${definition.name}: ${issues.slice(0, 10).join('; ')}${issues.length > 10 ? `; and ${issues.length - 10} more` : ''}`,
      );
    }
    return output;
  }

  private async attempt(
    request: MappedRequest,
    operation: string,
    timeoutMs: number,
    callSignal: AbortSignal,
    credentials: AppliedCredentials,
  ): Promise<UpstreamAnswer> {
    if (callSignal.aborted) throw new CallAborted();
    const attemptSignal = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([callSignal, attemptSignal]);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal,
        // A redirect could carry the credentials to another server: it is reported instead.
        redirect: 'manual',
      });
      if (RETRIED_STATUSES.has(response.status)) {
        const { body, truncated } = await readBody(response, ERROR_BODY_BYTES);
        throw new TransientFailure('status', {
          status: response.status,
          excerpt: safeExcerpt(decode(body, response.headers), credentials.secrets, truncated),
          retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
        });
      }
      const ok = response.status >= 200 && response.status < 300;
      const limit = ok ? this.options.maxResponseBytes : ERROR_BODY_BYTES;
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (ok && declared > limit) {
        void response.body?.cancel().catch(() => undefined);
        throw tooLarge(operation, limit);
      }
      const { body, truncated } = await readBody(response, limit);
      if (ok && truncated) throw tooLarge(operation, limit);
      return { status: response.status, headers: response.headers, body, truncated };
    } catch (error) {
      if (error instanceof TransientFailure || error instanceof BusinessError) throw error;
      if (callSignal.aborted) throw new CallAborted();
      if (attemptSignal.aborted) throw new TransientFailure('timeout', {});
      const cause = networkCause(error);
      if (cause) throw new TransientFailure('connection', { cause });
      throw error;
    }
  }

  private async credentials(
    definition: ToolDefinition,
    binding: HttpBinding,
    log: Logger,
  ): Promise<AppliedCredentials> {
    const auth = binding.auth;
    if (!auth) return NO_CREDENTIALS;
    const secret = binding.credentialsSecret;
    if (!secret)
      throw new BusinessError(
        'credentials_unavailable',
        `${definition.name} needs ${auth.kind} credentials but its binding names no credentials secret; it must be fixed in the registry`,
      );
    const read = async (key: string): Promise<string> => {
      let value: string;
      try {
        value = await this.options.secrets.read(secret, key);
      } catch (error) {
        // The store's message says where it looked; it never holds a value.
        log.error({ err: error, secretName: secret, key }, 'credentials could not be read');
        throw new BusinessError(
          'credentials_unavailable',
          `the credentials of ${definition.name} are not available: secret "${secret}" has no readable key "${key}"; an operator must mount it`,
        );
      }
      if (value === '')
        throw new BusinessError(
          'credentials_unavailable',
          `the credentials of ${definition.name} are not available: key "${key}" of secret "${secret}" is empty`,
        );
      return value;
    };
    switch (auth.kind) {
      case 'bearer': {
        const token = await read('token');
        return {
          headers: { authorization: `Bearer ${token}` },
          query: {},
          secrets: secretForms(token),
        };
      }
      case 'basic': {
        const username = await read('username');
        const password = await read('password');
        const pair = Buffer.from(`${username}:${password}`).toString('base64');
        return {
          headers: { authorization: `Basic ${pair}` },
          query: {},
          secrets: [...secretForms(password), ...secretForms(username), pair],
        };
      }
      case 'api_key': {
        const key = await read('api_key');
        return {
          headers: auth.in === 'header' ? { [auth.name]: key } : {},
          query: auth.in === 'query' ? { [auth.name]: key } : {},
          secrets: secretForms(key),
        };
      }
    }
  }

  private outputValidator(definition: ToolDefinition): ValidateFunction | undefined {
    const schema = definition.outputSchema;
    if (!schema) return undefined;
    let validate = this.validators.get(schema);
    if (!validate) {
      // The registry has checked the schema; its dialect and id would only confuse ajv's cache.
      const { $schema: _dialect, $id: _id, ...rest } = schema;
      validate = this.ajv.compile(rest);
      this.validators.set(schema, validate);
    }
    return validate;
  }
}

function httpBindingOf(definition: ToolDefinition): HttpBinding {
  if (definition.binding?.kind !== 'http')
    throw new Error(`${definition.name} ${definition.version} has no http binding`);
  return definition.binding;
}

/** `GET https://api.acme.com/v2/customers/{id}`: the template, never the input or a credential. */
function describeOperation(binding: HttpBinding): string {
  const base = new URL(binding.baseUrl);
  return `${binding.method} ${base.origin}${base.pathname.replace(/\/+$/, '')}${binding.path}`;
}

function tooLarge(operation: string, limit: number): BusinessError {
  return new BusinessError(
    'upstream_response_too_large',
    `${operation} answered with more than ${limit} bytes, the most this executor accepts (HTTP_MAX_RESPONSE_BYTES); the response was refused`,
  );
}

function attemptsNote(attempts: number): string {
  return attempts > 1 ? ` (${attempts} attempts)` : '';
}

function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

function transientError(
  failure: TransientFailure,
  operation: string,
  method: string,
  attempts: number,
  timeoutMs: number,
): RetryableToolError {
  const notes = [
    attempts > 1 ? `${attempts} attempts` : undefined,
    !IDEMPOTENT_METHODS.has(method) ? `not retried: ${method} is not idempotent` : undefined,
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
function statusError(
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

function parseOutput(answer: UpstreamAnswer, operation: string, method: string): unknown {
  if (
    method === 'HEAD' ||
    answer.status === 204 ||
    answer.status === 205 ||
    answer.body.length === 0
  )
    return null;
  const contentType = answer.headers.get('content-type');
  const text = decode(answer.body, answer.headers);
  if (!isJsonContentType(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BusinessError(
      'upstream_response_invalid',
      `${operation} answered with content type ${contentType} but a body that is not valid JSON`,
    );
  }
}

function decode(body: Buffer, headers: Headers): string {
  const charset = /charset="?([^";\s]+)/i.exec(headers.get('content-type') ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return body.toString('utf8');
  }
}

/** Reads a body up to `limit` bytes; `truncated` says more was there (and was not read). */
async function readBody(
  response: Response,
  limit: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  if (!response.body) return { body: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: Buffer.concat(chunks), truncated: false };
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      void reader.cancel().catch(() => undefined);
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
}

/** The code of a connection-level failure fetch reports as `TypeError: fetch failed`. */
function networkCause(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || error.cause === undefined) return undefined;
  const cause = error.cause as { code?: unknown; name?: unknown };
  if (typeof cause.code === 'string') return cause.code;
  return typeof cause.name === 'string' ? cause.name : 'network error';
}

function describeIssue(error: ErrorObject): string {
  let pointer = error.instancePath;
  const escape = (p: string) => p.replace(/~/g, '~0').replace(/\//g, '~1');
  if (error.keyword === 'required')
    pointer += `/${escape(String(error.params['missingProperty']))}`;
  if (error.keyword === 'additionalProperties')
    pointer += `/${escape(String(error.params['additionalProperty']))}`;
  const message =
    error.keyword === 'required'
      ? 'is required'
      : error.keyword === 'additionalProperties'
        ? 'is not allowed here'
        : (error.message ?? 'is invalid');
  return `${pointer || '/'} ${message}`;
}

/** Rejects with CallAborted as soon as `signal` fires, whatever `work` is waiting for. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CallAborted());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
