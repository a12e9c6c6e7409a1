import type { FieldIssue } from '@toolbus/contracts';
import type { OpenApiVersion } from './document-validation.js';
import type { RefResolver } from './ref-resolver.js';
import { convertSchema, type SchemaDirection } from './schema-conversion.js';

/** How the registry's import service wants the tools of one document made. */
export interface ConvertOptions {
  /** Import name, e.g. "crm-api"; also the area of scopes that name none. */
  source: string;
  /** Overrides the document's servers[0]. */
  baseUrl?: string;
  credentialsSecret?: string;
  owner: string;
  region: string;
  /** Prepended to every tool name, e.g. "billing_". */
  namePrefix?: string;
  tags: string[];
  timeoutMs: number;
  /** e.g. "tool_requests.http-executor". */
  executorTopic: string;
}

/** What every step of one document's conversion reads, and the issues they all add to. */
export interface ConversionContext {
  doc: Record<string, unknown>;
  version: OpenApiVersion;
  options: ConvertOptions;
  resolver: RefResolver;
  /** Every problem found so far; the conversion throws them together. */
  issues: FieldIssue[];
}

/** Path item keys that are operations. TRACE has no HttpMethod in Toolbus and is skipped. */
export const METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
] as const;
export type Method = Exclude<(typeof METHODS)[number], 'trace'>;

/** One operation found under `paths`. */
export interface OperationRef {
  method: Method;
  path: string;
  pointer: string;
  operation: Record<string, unknown>;
  pathItem: Record<string, unknown>;
  pathItemPointer: string;
  /** Begins every issue about the operation: "operation GET /customers: ". */
  label: string;
}

/** The input schema of a tool as its parameters and body add to it. */
export interface ToolInput {
  properties: Record<string, unknown>;
  required: string[];
  /** Field names given out so far, so none is given twice. */
  taken: Set<string>;
}

/** `GET /customers/{id} (/paths/~1customers~1{id}/get)`, for issues naming two operations. */
export function describeOperation(ref: OperationRef): string {
  return `${ref.method.toUpperCase()} ${ref.path} (${ref.pointer})`;
}

/** A schema of the operation converted to the JSON Schema of a tool (issues say where). */
export function operationSchema(
  ctx: ConversionContext,
  ref: OperationRef,
  schema: unknown,
  pointer: string,
  direction: SchemaDirection,
): Record<string, unknown> | boolean | undefined {
  return convertSchema(schema, pointer, {
    resolver: ctx.resolver,
    version: ctx.version,
    direction,
    issues: ctx.issues,
    label: ref.label,
  });
}

/** A string with something in it, trimmed; undefined otherwise. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `application/json` of `application/json; charset=utf-8`. */
export function mediaEssence(mediaType: string): string {
  return mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isJsonMediaType(essence: string): boolean {
  return essence === 'application/json' || /^application\/[^/]+\+json$/.test(essence);
}

/** A boolean schema as an object one, so a description can be added to it. */
export function asObjectSchema(schema: Record<string, unknown> | boolean): Record<string, unknown> {
  if (schema === true) return {};
  if (schema === false) return { not: {} };
  return schema;
}
