import type { SafeError } from './common.js';
import { z } from 'zod';

/**
 * CloudEvents 1.0 in Kafka binary mode: the event's attributes travel as `ce_*` headers and the
 * payload is the JSON value. Any language's Kafka client can produce and read these.
 */
export const CE_HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  source: 'ce_source',
  type: 'ce_type',
  time: 'ce_time',
  subject: 'ce_subject',
  /** Extension attributes used for request-reply; lower-case alphanumerics as the spec requires. */
  correlationid: 'ce_correlationid',
  replyto: 'ce_replyto',
  replypartition: 'ce_replypartition',
  deadline: 'ce_deadline',
  contentType: 'content-type',
} as const;

/** Headers that are not CloudEvents attributes but ride along: W3C trace context. */
export const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

export const CloudEventAttributes = z
  .object({
    specversion: z.literal('1.0').describe('CloudEvents spec version; always "1.0"'),
    id: z.string().min(1).max(256).describe('Unique id of this event (a UUID)'),
    source: z
      .string()
      .min(1)
      .max(512)
      .describe('URI-reference of the producing service, e.g. /toolbus/gateway'),
    type: z
      .string()
      .regex(
        /^[a-z0-9]+(\.[a-z0-9_]+)+\.v[0-9]+$/,
        'type must look like dev.toolbus.<area>.<event>.v<N>',
      )
      .describe('Event type, e.g. dev.toolbus.ask.requested.v1'),
    time: z.iso.datetime({ offset: true }).describe('When the event happened (RFC 3339)'),
    subject: z.string().max(512).optional().describe('What the event is about, e.g. a tool name'),
    datacontenttype: z.literal('application/json').default('application/json'),
    correlationid: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('Request-reply: ties a reply to its request'),
    replyto: z
      .string()
      .min(1)
      .max(249)
      .optional()
      .describe('Request-reply: topic the reply goes to'),
    replypartition: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Request-reply: partition the reply goes to'),
    deadline: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Request-reply: after this instant nobody waits'),
  })
  .describe('CloudEvents 1.0 attributes carried as ce_* Kafka headers (binary content mode)');
export type CloudEventAttributes = z.infer<typeof CloudEventAttributes>;

/** Message headers as strings (Kafka header values are bytes; they are UTF-8 here). */
export type Headers = Record<string, string>;

/** Writes the attributes as binary-mode headers. */
export function toCloudEventHeaders(attrs: CloudEventAttributes): Headers {
  const h: Headers = {
    [CE_HEADERS.specversion]: attrs.specversion,
    [CE_HEADERS.id]: attrs.id,
    [CE_HEADERS.source]: attrs.source,
    [CE_HEADERS.type]: attrs.type,
    [CE_HEADERS.time]: attrs.time,
    [CE_HEADERS.contentType]: attrs.datacontenttype ?? 'application/json',
  };
  if (attrs.subject !== undefined) h[CE_HEADERS.subject] = attrs.subject;
  if (attrs.correlationid !== undefined) h[CE_HEADERS.correlationid] = attrs.correlationid;
  if (attrs.replyto !== undefined) h[CE_HEADERS.replyto] = attrs.replyto;
  if (attrs.replypartition !== undefined)
    h[CE_HEADERS.replypartition] = String(attrs.replypartition);
  if (attrs.deadline !== undefined) h[CE_HEADERS.deadline] = attrs.deadline;
  return h;
}

/** Thrown when headers do not make a valid CloudEvent; the message says which attribute. */
export class InvalidEnvelopeError extends Error {
  override readonly name = 'InvalidEnvelopeError';
}

/** Reads binary-mode headers back into attributes, naming the first missing or bad one. */
export function fromCloudEventHeaders(headers: Headers): CloudEventAttributes {
  for (const required of ['specversion', 'id', 'source', 'type'] as const) {
    if (!headers[CE_HEADERS[required]]) {
      throw new InvalidEnvelopeError(`missing CloudEvents header ${CE_HEADERS[required]}`);
    }
  }
  const ct = headers[CE_HEADERS.contentType];
  if (ct !== undefined && !ct.startsWith('application/json')) {
    throw new InvalidEnvelopeError(`unsupported content-type "${ct}": expected application/json`);
  }
  const parsed = CloudEventAttributes.safeParse({
    specversion: headers[CE_HEADERS.specversion],
    id: headers[CE_HEADERS.id],
    source: headers[CE_HEADERS.source],
    type: headers[CE_HEADERS.type],
    time: headers[CE_HEADERS.time] ?? new Date(0).toISOString(),
    subject: headers[CE_HEADERS.subject],
    correlationid: headers[CE_HEADERS.correlationid],
    replyto: headers[CE_HEADERS.replyto],
    replypartition: headers[CE_HEADERS.replypartition],
    deadline: headers[CE_HEADERS.deadline],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const attr = String(issue?.path[0] ?? 'envelope');
    throw new InvalidEnvelopeError(
      `invalid CloudEvents header ce_${attr}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Formats zod issues as `pointer: message` lines, with JSON pointers to the bad fields. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${jsonPointer(i.path)}: ${i.message}`)
    .join('; ');
}

/**
 * The answer to a message that is not what it claims to be: a `validation` SafeError named
 * `code`, its message saying what (`the ask is invalid: /question ...`), one issue per bad
 * field (at most 100) with a JSON pointer, so the sender can correct each.
 */
export function validationError(code: string, what: string, error: z.ZodError): SafeError {
  return {
    class: 'validation',
    code,
    message: `${what}: ${describeIssues(error)}`.slice(0, 2000),
    retryable: false,
    issues: error.issues
      .slice(0, 100)
      .map((i) => ({ pointer: jsonPointer(i.path), message: i.message })),
  };
}

/** RFC 6901 JSON pointer for a path; the empty path is the whole document ("/"). */
export function jsonPointer(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '/';
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
