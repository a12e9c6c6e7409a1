import { FieldIssue } from '@toolbus/contracts';
import { z } from 'zod';

/** An RFC 9457 problem as the platform's services answer it; extra members are kept. */
export const Problem = z
  .object({
    type: z.string().optional(),
    title: z.string().optional(),
    status: z.number().int().optional(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    issues: z.array(FieldIssue).optional(),
  })
  .loose();
export type Problem = z.infer<typeof Problem>;

/** Which service a client talks to, for its messages ("cannot reach the registry at ..."). */
export type ApiService = 'registry' | 'orchestrator';

/** The service answered with an error (4xx/5xx); `problem` is what it said. */
export class ApiRefusedError extends Error {
  override readonly name: string = 'ApiRefusedError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
    /** The body as received, for `--json`. */
    readonly body: unknown,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/** Nothing answered at the service's URL (refused, DNS, TLS, or the deadline passed). */
export class ApiUnreachableError extends Error {
  override readonly name: string = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly service: ApiService = 'registry',
  ) {
    super(`cannot reach the ${service} at ${url}: ${reason}`);
  }
}

/** Something answered, but not with what the service's contract promises. */
export class UnexpectedResponseError extends Error {
  override readonly name = 'UnexpectedResponseError';
  constructor(
    readonly what: string,
    readonly issues: FieldIssue[],
    readonly service: ApiService = 'registry',
  ) {
    super(`${what} does not match the ${service} API contract`);
  }
}

/** A validated answer with the JSON exactly as it arrived (for `--json`) and its headers. */
export interface ApiAnswer<T> {
  data: T;
  raw: unknown;
  headers: Headers;
}

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:8080 or https://toolbus.acme.com/registry */
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  userAgent?: string;
}

/**
 * One of the platform's HTTP APIs as the CLI uses it. Every answer is parsed with the
 * contract's schema before anyone looks at it; errors become one of three classes the CLI maps
 * to exit codes.
 */
export class ApiClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(
    private readonly options: ApiClientOptions,
    readonly service: ApiService,
  ) {
    // Keep a path prefix (a service behind a reverse proxy at /registry) when joining paths.
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  protected async call<T>(
    method: string,
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'user-agent': this.options.userAgent ?? 'toolbus-cli',
    };
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new ApiUnreachableError(
        this.base,
        unreachableReason(error, this.options),
        this.service,
      );
    }
    const what = `the answer to ${method} ${path.split('?')[0]}`;
    const json = parseJson(text);
    if (!response.ok) {
      const problem = Problem.safeParse(json.ok ? json.value : undefined);
      throw new ApiRefusedError(
        response.status,
        problem.success
          ? { status: response.status, ...problem.data }
          : {
              status: response.status,
              title: response.statusText,
              detail: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${
                text.trim() ? `: ${snippet(text)}` : ''
              }`,
            },
        json.ok ? json.value : text,
      );
    }
    if (!json.ok)
      throw new UnexpectedResponseError(
        what,
        [{ pointer: '/', message: `is not JSON: ${snippet(text) || '(empty body)'}` }],
        this.service,
      );
    const parsed = schema.safeParse(json.value);
    if (!parsed.success)
      throw new UnexpectedResponseError(what, zodIssues(parsed.error), this.service);
    return { data: parsed.data, raw: json.value, headers: response.headers };
  }
}

/** Issues of a zod error located by JSON pointer (RFC 6901). */
export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.slice(0, 20).map((issue) => ({
    pointer: pointerOf(issue.path),
    message: issue.message,
  }));
}

export function pointerOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '/';
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (!text.trim()) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

function unreachableReason(error: unknown, options: ApiClientOptions): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${options.timeoutMs} ms (raise it with --timeout-ms)`;
  // undici puts the socket error (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown }) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
