import type { HttpBinding, ToolDefinition } from '@toolbus/contracts';
import type { EgressFetch } from '@toolbus/egress';
import {
  anonymousSchema,
  createAjv,
  validationIssues,
  type ValidateFunction,
} from '@toolbus/json-schema';
import type { Logger } from '@toolbus/observability';
import { credentialOriginProblem, redactOutput, type CredentialOrigins } from '@toolbus/security';
import type { ToolContext } from '@toolbus/tool-sdk';
import type { IBackoffFactory } from 'cockatiel';
import { readCredentials, type SecretReader } from './credentials.js';
import {
  addCallHeaders,
  isIdempotent,
  mapRequest,
  type AppliedCredentials,
  type MappedRequest,
} from './request-mapping.js';
import { RetryLoop, retryBackoff } from './retry-loop.js';
import { attemptOnce } from './upstream-attempt.js';
import {
  abortedError,
  CallAborted,
  credentialOriginError,
  describeOperation,
  outputMismatchError,
  statusError,
  TransientFailure,
  transientError,
} from './upstream-errors.js';
import { parseOutput, type UpstreamAnswer } from './upstream-response.js';

export type { SecretReader } from './credentials.js';

export interface HttpToolExecutorOptions {
  secrets: SecretReader;
  /** Attempts of an idempotent call, the first included (HTTP_RETRY_ATTEMPTS). */
  retryAttempts: number;
  /** Scale of the backoff between attempts, in ms (HTTP_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** Largest response body accepted, in bytes after decompression (HTTP_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /**
   * Every upstream request goes through it: `egressFetch(egressAgent({ allow: EGRESS_ALLOW }))`
   * of libs/egress, which refuses internal addresses after resolving the host once.
   */
  fetch: EgressFetch;
  /** Which origins each credential may be sent to (CREDENTIAL_ORIGINS); unlisted: none. */
  credentialOrigins: CredentialOrigins;
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

/** One call on its way: what every step after the credentials needs. */
interface Call {
  definition: ToolDefinition;
  binding: HttpBinding;
  /** The operation's description, for logs and errors. */
  operation: string;
  credentials: AppliedCredentials;
  log: Logger;
  options: ExecuteOptions;
}

/**
 * Runs a tool imported from an OpenAPI document: maps its input onto the REST operation in
 * `definition.binding`, presents the credentials read from the mounted secret, retries what is
 * safe to retry within the call's deadline, and turns the answer into the tool's output (checked
 * against its output schema) or into an error a model can read, without ever showing a secret.
 * A credential goes only to the origins CREDENTIAL_ORIGINS lists for it, and no request
 * reaches an internal address EGRESS_ALLOW does not list.
 */
export class HttpToolExecutor {
  private readonly ajv = createAjv();
  private readonly validators = new WeakMap<object, ValidateFunction>();
  private readonly backoff: IBackoffFactory<unknown>;

  constructor(private readonly options: HttpToolExecutorOptions) {
    this.backoff = retryBackoff(options.retryBaseMs);
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
    const log = this.callLogger(definition, options);
    const operation = describeOperation(binding);
    this.checkCredentialOrigin(definition, binding, log);
    const credentials = await readCredentials(this.options.secrets, definition, binding, log);
    const call: Call = { definition, binding, operation, credentials, log, options };
    const request = this.request(call, input);
    const validate = this.outputValidator(definition);
    options.span?.setAttributes({
      'http.request.method': binding.method,
      'url.template': binding.path,
      'server.address': request.url.hostname,
    });
    const answer = await this.send(call, request);
    return this.output(call, answer, validate);
  }

  /**
   * Refuses, before the secret is even read, a binding whose credential would go to an origin
   * CREDENTIAL_ORIGINS does not list for it: a registry writer pairing the CRM's token with a
   * host of their own must not have the executor deliver it. The mapped request keeps the base
   * URL's origin (path values are percent-encoded), so checking the base URL is enough.
   */
  private checkCredentialOrigin(definition: ToolDefinition, binding: HttpBinding, log: Logger) {
    const secret = binding.credentialsSecret;
    if (!binding.auth || !secret) return;
    const problem = credentialOriginProblem(
      this.options.credentialOrigins,
      secret,
      binding.baseUrl,
    );
    if (!problem) return;
    log.warn(
      { secretName: secret, baseUrl: binding.baseUrl },
      'credential refused for this origin',
    );
    throw credentialOriginError(definition.name, problem);
  }

  private callLogger(definition: ToolDefinition, options: ExecuteOptions): Logger {
    // The SDK's call logger already names the tool (and the key and call id).
    return options.logger
      ? options.logger.child({ toolVersion: definition.version })
      : this.options.logger.child({ tool: definition.name, toolVersion: definition.version });
  }

  /** The input mapped onto the operation, with the credentials and the call's own headers. */
  private request(call: Call, input: Record<string, unknown>): MappedRequest {
    const request = mapRequest(call.definition.name, call.binding, input, call.credentials);
    addCallHeaders(request, {
      idempotencyKey: call.options.idempotencyKey,
      traceContext: call.options.span?.spanContext(),
    });
    return request;
  }

  /**
   * Attempts the request until an answer comes (any status that is not retried), retrying an
   * idempotent method within the deadline; a failure that ends the call becomes a tool error.
   */
  private async send(call: Call, request: MappedRequest): Promise<UpstreamAnswer> {
    const { definition, binding, operation, log, options } = call;
    const deadlineSignal = AbortSignal.timeout(Math.max(1, options.deadline - Date.now()));
    const callSignal = options.signal
      ? AbortSignal.any([options.signal, deadlineSignal])
      : deadlineSignal;
    const loop = new RetryLoop({
      maxAttempts: isIdempotent(binding.method) ? this.options.retryAttempts : 1,
      deadline: options.deadline,
      signal: callSignal,
      backoff: this.backoff,
      onRetry: (failure, attempt, delayMs) => {
        log.warn(
          { operation, attempt, reason: failure.kind, ...failure.details, delayMs },
          'upstream call failed; retrying',
        );
        options.span?.addEvent('retry', { attempt, reason: failure.kind, delay_ms: delayMs });
      },
    });
    let answer: UpstreamAnswer;
    try {
      answer = await loop.run(() =>
        attemptOnce(request, {
          operation,
          timeoutMs: definition.timeoutMs,
          callSignal,
          credentials: call.credentials,
          maxResponseBytes: this.options.maxResponseBytes,
          fetch: this.options.fetch,
        }),
      );
    } catch (error) {
      options.span?.setAttributes({ 'toolbus.http.attempts': loop.attempts });
      if (error instanceof TransientFailure)
        throw transientError(error, operation, binding.method, loop.attempts, definition.timeoutMs);
      if (error instanceof CallAborted || callSignal.aborted)
        throw abortedError(
          operation,
          loop.attempts,
          deadlineSignal.aborted || Date.now() >= options.deadline,
        );
      throw error;
    }
    options.span?.setAttributes({
      'toolbus.http.attempts': loop.attempts,
      'http.response.status_code': answer.status,
    });
    return answer;
  }

  /**
   * A 2xx answer as the tool's output, checked against the output schema, with the credentials
   * sent redacted from every string (an upstream echoing its request must not hand them to the
   * model); others as errors.
   */
  private output(
    call: Call,
    answer: UpstreamAnswer,
    validate: ValidateFunction | undefined,
  ): unknown {
    const { definition, binding, operation } = call;
    if (answer.status < 200 || answer.status >= 300)
      throw statusError(answer, operation, binding, call.credentials);
    const output = redactOutput(
      parseOutput(answer, operation, binding.method),
      call.credentials.secrets,
    );
    if (validate && !validate(output)) {
      const issues = validationIssues(validate.errors).map((i) => `${i.pointer} ${i.message}`);
      call.log.warn({ operation, issues }, 'upstream answer does not match the output schema');
      throw outputMismatchError(operation, definition.name, issues);
    }
    return output;
  }

  private outputValidator(definition: ToolDefinition): ValidateFunction | undefined {
    const schema = definition.outputSchema;
    if (!schema) return undefined;
    let validate = this.validators.get(schema);
    if (!validate) {
      // The registry has checked the schema; its dialect and id would only confuse ajv's cache.
      validate = this.ajv.compile(anonymousSchema(schema));
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
