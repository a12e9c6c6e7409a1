import { randomUUID } from 'node:crypto';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { jsonPointer, type FieldIssue } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import type { z } from 'zod';

/** An RFC 9457 problem an HTTP handler answers with; `issues` name each bad field by pointer. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: { issues?: FieldIssue[]; headers?: Record<string, string> } & Record<
      string,
      unknown
    > = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  402: 'Payment Required',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A 422 from a zod error: one issue per bad field, pointers prefixed with `prefix`. */
export function invalidInput(what: string, error: z.ZodError, prefix = ''): ProblemError {
  const issues: FieldIssue[] = error.issues.slice(0, 100).map((i) => ({
    pointer: `${prefix}${jsonPointer(i.path)}`.replace(/(.)\/$/, '$1'),
    message: i.message,
  }));
  return new ProblemError(
    422,
    'invalid_input',
    `${what}: ${issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`.slice(0, 2000),
    { issues },
  );
}

/**
 * Answers every error as application/problem+json: ProblemErrors as they say, Nest's HTTP
 * exceptions with their status, anything else as a 500 whose detail is only a reference the
 * log line carries (no stack or message leaks to the client).
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void | Observable<never> {
    // Bus handlers inherit the app's filters; their errors belong to the bus (retry, DLQ).
    if (host.getType() !== 'http') return throwError(() => error);
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    let status = 500;
    let code = 'internal';
    let detail: string;
    let extra: Record<string, unknown> = {};
    let headers: Record<string, string> = {};
    if (error instanceof ProblemError) {
      ({ status, code, detail } = error);
      const { headers: h, ...rest } = error.extra;
      headers = h ?? {};
      extra = rest;
    } else if (error instanceof HttpException) {
      status = error.getStatus();
      code = status === 404 ? 'not_found' : 'http_error';
      const body = error.getResponse();
      detail =
        typeof body === 'string'
          ? body
          : String((body as { message?: unknown }).message ?? error.message);
    } else if (isFastifyClientError(error)) {
      status = error.statusCode;
      code =
        error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'bad_request';
      detail = error.message;
    } else {
      const ref = randomUUID();
      this.logger.error({ err: error, ref, url: request.url }, 'unhandled error');
      detail = `internal error; reference ${ref}`;
      extra = { ref };
    }
    // Fastify's own words ("Request body is too large") do not say how large is allowed.
    if (status === 413 && !(error instanceof ProblemError)) {
      code = 'body_too_large';
      detail = `the request body is larger than the ${request.routeOptions.bodyLimit} bytes this endpoint accepts`;
    }
    void sendProblem(
      reply,
      request.url,
      new ProblemError(status, code, detail, { ...extra, headers }),
    );
  }
}

/**
 * Writes one problem+json answer (RFC 9457): `type` from the code, the status's title, the
 * request path as `instance`, the error's extra members (issues, tool error...), its headers.
 */
export function sendProblem(
  reply: FastifyReply,
  instance: string,
  problem: ProblemError,
): FastifyReply {
  const { headers, ...extra } = problem.extra;
  return reply
    .status(problem.status)
    .headers(headers ?? {})
    .header('content-type', 'application/problem+json')
    .send({
      type: `https://toolbus.dev/problems/${problem.code}`,
      title: TITLES[problem.status] ?? 'Error',
      status: problem.status,
      detail: problem.detail,
      instance,
      ...extra,
    });
}

function isFastifyClientError(
  error: unknown,
): error is { statusCode: number; code?: string; message: string } {
  const e = error as { statusCode?: unknown; code?: unknown };
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    typeof e.code === 'string' &&
    e.code.startsWith('FST_')
  );
}
