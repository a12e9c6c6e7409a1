import type { HttpBinding } from '@toolbus/contracts';
import { BusinessError } from '@toolbus/tool-sdk';

/** What the credentials add to a request, and the values to redact from anything shown. */
export interface AppliedCredentials {
  /** Headers set last: they replace whatever the input mapped to the same name. */
  headers: Record<string, string>;
  /** Query parameters set last: every input value of the same name is dropped. */
  query: Record<string, string>;
  /** Every credential value used in the call, in the forms it may be echoed back in. */
  secrets: string[];
}

export const NO_CREDENTIALS: AppliedCredentials = { headers: {}, query: {}, secrets: [] };

/** A request ready for fetch. */
export interface MappedRequest {
  method: HttpBinding['method'];
  url: URL;
  headers: Headers;
  body?: string;
}

/** Methods that may be sent again without changing the effect (RFC 9110, section 9.2.2). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
]);

/** Whether `method` may be sent again without changing the effect: retried, and sent without a key. */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/**
 * Headers the input may never set: credentials come only from the mounted secret, and the
 * framing headers belong to the HTTP client.
 */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** A header value fetch can carry: visible Latin-1, spaces and tabs, no line breaks. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function invalidInput(tool: string, field: string, problem: string): BusinessError {
  return new BusinessError(
    'invalid_input',
    `invalid input for ${tool}: /${field} ${problem}`,
    'validation',
  );
}

function definitionError(tool: string, problem: string): BusinessError {
  return new BusinessError(
    'tool_definition_invalid',
    `${tool} cannot be called: ${problem}; its definition must be fixed in the registry`,
  );
}

/**
 * One value as text: strings as they are, numbers and booleans with String(), anything else
 * (objects, nested arrays) as JSON.
 */
export function wireText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

const present = (value: unknown): boolean => value !== undefined && value !== null;

/** Appends a value the way query strings and forms carry it: an array repeats the name. */
function appendParam(params: URLSearchParams, name: string, value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) if (present(item)) params.append(name, wireText(item));
  } else if (present(value)) {
    params.append(name, wireText(value));
  }
}

function pathSegment(tool: string, field: string, value: unknown): string {
  // OpenAPI's default path style ("simple"): array items joined with commas.
  const text = Array.isArray(value)
    ? value
        .filter(present)
        .map((item) => encodeURIComponent(wireText(item)))
        .join(',')
    : encodeURIComponent(wireText(value));
  // URL parsing resolves "." and ".." segments (even percent-encoded ones): a value like that
  // would send the call, with its credentials, to another endpoint of the API.
  if (text === '' || /^(\.|%2e){1,2}$/i.test(text))
    throw invalidInput(tool, field, `must be a non-empty path segment other than "." or ".."`);
  return text;
}

/**
 * Maps a tool's input onto its REST operation: path parameters substituted and
 * percent-encoded, query parameters (arrays repeated as `a=1&a=2`, numbers and booleans as
 * text, objects as JSON), headers, and the body as JSON or as a form. The credentials are
 * applied last, so no input field can replace them.
 */
export function mapRequest(
  tool: string,
  binding: HttpBinding,
  input: Record<string, unknown>,
  credentials: AppliedCredentials = NO_CREDENTIALS,
): MappedRequest {
  const byPathName = new Map(
    binding.parameters.filter((p) => p.in === 'path').map((p) => [p.name, p]),
  );
  const path = binding.path.replace(/\{([^{}]+)\}/g, (_match, name: string) => {
    const parameter = byPathName.get(name);
    if (!parameter) throw definitionError(tool, `path parameter {${name}} is not bound to a field`);
    const value = input[parameter.field];
    if (!present(value)) throw invalidInput(tool, parameter.field, `is required (path {${name}})`);
    return pathSegment(tool, parameter.field, value);
  });

  const url = new URL(binding.baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  const headers = new Headers();
  for (const parameter of binding.parameters) {
    if (parameter.in === 'path') continue;
    const value = input[parameter.field];
    if (!present(value)) {
      if (parameter.required)
        throw invalidInput(
          tool,
          parameter.field,
          `is required (${parameter.in} ${parameter.name})`,
        );
      continue;
    }
    if (parameter.in === 'query') {
      appendParam(url.searchParams, parameter.name, value);
      continue;
    }
    if (RESERVED_HEADERS.has(parameter.name.toLowerCase())) continue;
    const text = Array.isArray(value)
      ? value.filter(present).map(wireText).join(', ')
      : wireText(value);
    if (!HEADER_VALUE.test(text))
      throw invalidInput(tool, parameter.field, `contains characters a header cannot carry`);
    headers.set(parameter.name, text);
  }

  let body: string | undefined;
  if (binding.body) {
    const value = input[binding.body.field];
    if (present(value)) {
      if (binding.method === 'GET' || binding.method === 'HEAD')
        throw definitionError(tool, `a ${binding.method} request cannot carry a body`);
      if (binding.body.contentType === 'application/json') {
        body = JSON.stringify(value);
      } else {
        if (typeof value !== 'object' || Array.isArray(value))
          throw invalidInput(tool, binding.body.field, 'must be an object to be sent as a form');
        const form = new URLSearchParams();
        for (const [name, item] of Object.entries(value as Record<string, unknown>))
          appendParam(form, name, item);
        body = form.toString();
      }
      headers.set('content-type', binding.body.contentType);
    } else if (binding.body.required) {
      throw invalidInput(tool, binding.body.field, 'is required (request body)');
    }
  }

  for (const [name, value] of Object.entries(credentials.query)) {
    url.searchParams.delete(name);
    url.searchParams.append(name, value);
  }
  for (const [name, value] of Object.entries(credentials.headers)) headers.set(name, value);
  if (!headers.has('accept')) headers.set('accept', 'application/json, */*;q=0.8');
  return { method: binding.method, url, headers, ...(body !== undefined ? { body } : {}) };
}

/** The W3C trace context of the call's span. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/**
 * Headers of the call rather than of its input: `Idempotency-Key` on a method that is not
 * idempotent (POST, PATCH), so an upstream that supports it can dedup, and `traceparent` when
 * the call is traced (an all-zero trace id is no trace).
 */
export function addCallHeaders(
  request: MappedRequest,
  call: { idempotencyKey?: string; traceContext?: TraceContext },
): void {
  if (call.idempotencyKey && !isIdempotent(request.method))
    request.headers.set('idempotency-key', call.idempotencyKey);
  const trace = call.traceContext;
  if (trace && !/^0+$/.test(trace.traceId))
    request.headers.set(
      'traceparent',
      `00-${trace.traceId}-${trace.spanId}-${trace.traceFlags.toString(16).padStart(2, '0')}`,
    );
}
