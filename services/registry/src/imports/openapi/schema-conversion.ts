import type { FieldIssue } from '@toolbus/contracts';
import { isObject, type OpenApiVersion } from './document-validation.js';
import { childPointer } from './openapi-import-error.js';
import type { RefResolver } from './ref-resolver.js';

/** Input schemas lose `readOnly` properties, output schemas lose `writeOnly` ones. */
export type SchemaDirection = 'input' | 'output';

export interface SchemaContext {
  resolver: RefResolver;
  version: OpenApiVersion;
  direction: SchemaDirection;
  issues: FieldIssue[];
  /** Prefix of every issue message, e.g. `operation GET /customers/{id}: `. */
  label: string;
}

/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = new Set([
  'additionalProperties',
  'items',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'contains',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contentSchema',
  'additionalItems',
]);
/** Keywords whose value is an array of schemas. */
const SCHEMA_ARRAY_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'dependentSchemas',
  '$defs',
]);
/** OpenAPI-only or meaningless once inlined. */
const DROPPED_KEYWORDS = new Set([
  'discriminator',
  'xml',
  'externalDocs',
  'deprecated',
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
]);
/** Sibling keywords of a `$ref` that annotate it rather than constrain it. */
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
]);

const EXCLUSIVE_BOUNDS = [
  ['exclusiveMinimum', 'minimum'],
  ['exclusiveMaximum', 'maximum'],
] as const;

/** Inlining refs can multiply a schema; beyond this many nodes the document is refused. */
const MAX_NODES = 50_000;

/**
 * Converts an OpenAPI Schema Object (3.0 dialect or 3.1 = JSON Schema 2020-12) into a
 * self-contained draft 2020-12 schema: every internal `$ref` inlined (a circular one is an
 * issue naming the chain), 3.0 `nullable` → `"null"` in `type` / `enum`, `example` →
 * `examples`, 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` → numeric, OpenAPI-only
 * keywords dropped, and `readOnly` (input) or `writeOnly` (output) properties removed.
 * Returns undefined when an issue was pushed.
 */
export function convertSchema(
  schema: unknown,
  pointer: string,
  context: SchemaContext,
): Record<string, unknown> | boolean | undefined {
  const run = new SchemaRun(context);
  const result = run.convert(schema, pointer, []);
  return run.failed ? undefined : result;
}

interface RefFrame {
  ref: string;
  target: string;
}

class SchemaRun {
  failed = false;
  private nodes = 0;

  constructor(private readonly context: SchemaContext) {}

  private issue(pointer: string, message: string): void {
    this.failed = true;
    this.context.issues.push({ pointer, message: `${this.context.label}${message}` });
  }

  convert(schema: unknown, pointer: string, stack: RefFrame[]): Record<string, unknown> | boolean {
    if (this.failed) return {};
    if (++this.nodes > MAX_NODES) {
      this.issue(pointer, `schema is larger than ${MAX_NODES} nodes once its $refs are inlined`);
      return {};
    }
    if (typeof schema === 'boolean') return schema;
    if (!isObject(schema)) {
      this.issue(pointer, 'a schema must be an object');
      return {};
    }
    if (typeof schema['$ref'] === 'string') return this.convertRef(schema, pointer, stack);
    return this.convertObject(schema, pointer, stack);
  }

  private convertRef(
    schema: Record<string, unknown>,
    pointer: string,
    stack: RefFrame[],
  ): Record<string, unknown> | boolean {
    const ref = schema['$ref'] as string;
    const refPointer = childPointer(pointer, '$ref');
    const target = this.context.resolver.target(ref, refPointer, this.context.issues);
    if (!target) {
      this.failed = true;
      return {};
    }
    const loop = stack.findIndex((frame) => frame.target === target.pointer);
    if (loop >= 0) {
      const chain = [...stack.slice(loop).map((frame) => frame.ref), ref].join(' → ');
      this.issue(
        refPointer,
        `circular $ref ${chain}: recursive schemas cannot be inlined into a tool schema`,
      );
      return {};
    }
    const resolved = this.convert(target.value, target.pointer, [
      ...stack,
      { ref, target: target.pointer },
    ]);
    const siblings = Object.entries(schema).filter(([key]) => key !== '$ref');
    if (siblings.length === 0) return resolved;

    // 3.0 ignores a $ref's siblings (the specification says so); both versions keep
    // annotations such as a more specific description. 3.1 (JSON Schema 2020-12) applies
    // the other siblings too, which allOf expresses exactly.
    const annotations: Record<string, unknown> = {};
    const constraints: Record<string, unknown> = {};
    for (const [key, value] of siblings) {
      if (key === 'example') annotations['examples'] = [structuredClone(value)];
      else if (ANNOTATIONS.has(key)) annotations[key] = structuredClone(value);
      else if (!key.startsWith('x-') && !DROPPED_KEYWORDS.has(key)) constraints[key] = value;
    }
    const base = typeof resolved === 'boolean' ? (resolved ? {} : { not: {} }) : resolved;
    if (this.context.version === '3.1' && Object.keys(constraints).length > 0) {
      const extra = this.convertObject(constraints, pointer, stack);
      return { ...annotations, allOf: [base, extra] };
    }
    return { ...base, ...annotations };
  }

  private convertObject(
    schema: Record<string, unknown>,
    pointer: string,
    stack: RefFrame[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const skip = new Set<string>(['nullable', ...DROPPED_KEYWORDS]);
    for (const [flag, bound] of EXCLUSIVE_BOUNDS) {
      // Draft-04 style (OpenAPI 3.0): a boolean flag on minimum/maximum; 2020-12: a number.
      if (typeof schema[flag] !== 'boolean') continue;
      skip.add(flag);
      if (schema[flag] === true && typeof schema[bound] === 'number') {
        out[flag] = schema[bound];
        skip.add(bound);
      }
    }
    for (const [key, value] of Object.entries(schema)) {
      if (skip.has(key) || key.startsWith('x-')) continue;
      const at = childPointer(pointer, key);
      if (key === 'example' || (key === 'examples' && Array.isArray(value))) {
        const previous = Array.isArray(out['examples']) ? out['examples'] : [];
        const added = key === 'example' ? [value] : (value as unknown[]);
        out['examples'] = [...previous, ...structuredClone(added)];
      } else if (SCHEMA_KEYWORDS.has(key) && (isObject(value) || typeof value === 'boolean')) {
        out[key] = this.convert(value, at, stack);
      } else if (SCHEMA_ARRAY_KEYWORDS.has(key) && Array.isArray(value)) {
        out[key] = value.map((item, index) => this.convert(item, childPointer(at, index), stack));
      } else if (key === 'items' && Array.isArray(value)) {
        // The draft-07 tuple form, which 2020-12 spells prefixItems.
        out['prefixItems'] = value.map((item, index) =>
          this.convert(item, childPointer(at, index), stack),
        );
      } else if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
        const map: Record<string, unknown> = {};
        for (const [name, item] of Object.entries(value)) {
          map[name] = this.convert(item, childPointer(at, name), stack);
        }
        out[key] = map;
      } else if (key === 'dependencies' && isObject(value)) {
        // draft-07 style: split into the 2020-12 keywords.
        const required: Record<string, unknown> = {};
        const schemas: Record<string, unknown> = {};
        for (const [name, item] of Object.entries(value)) {
          if (Array.isArray(item)) required[name] = structuredClone(item);
          else schemas[name] = this.convert(item, childPointer(at, name), stack);
        }
        if (Object.keys(required).length > 0) out['dependentRequired'] = required;
        if (Object.keys(schemas).length > 0) out['dependentSchemas'] = schemas;
      } else {
        out[key] = structuredClone(value);
      }
    }
    this.dropHiddenProperties(out);
    return this.context.version === '3.0' && schema['nullable'] === true ? nullable(out) : out;
  }

  private dropHiddenProperties(out: Record<string, unknown>): void {
    const properties = out['properties'];
    if (!isObject(properties)) return;
    const hidden = this.context.direction === 'input' ? 'readOnly' : 'writeOnly';
    const removed = new Set(
      Object.keys(properties).filter((name) => {
        const property = properties[name];
        return isObject(property) && property[hidden] === true;
      }),
    );
    if (removed.size === 0) return;
    out['properties'] = Object.fromEntries(
      Object.entries(properties).filter(([name]) => !removed.has(name)),
    );
    if (Array.isArray(out['required'])) {
      out['required'] = out['required'].filter((name) => !removed.has(name as string));
    }
  }
}

/** OpenAPI 3.0 `nullable: true` in 2020-12 terms. */
function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  const out = { ...schema };
  if (Array.isArray(out['enum']) && !out['enum'].includes(null)) {
    out['enum'] = [...out['enum'], null];
  }
  const type = out['type'];
  if (typeof type === 'string') {
    out['type'] = type === 'null' ? type : [type, 'null'];
    return out;
  }
  if (Array.isArray(type)) {
    if (!type.includes('null')) out['type'] = [...type, 'null'];
    return out;
  }
  if (out['enum'] !== undefined || out['const'] !== undefined) return out;
  // No type (e.g. `nullable` beside `allOf: [{$ref}]`): either the schema or null.
  const annotations: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(out)) {
    if (ANNOTATIONS.has(key)) annotations[key] = value;
    else rest[key] = value;
  }
  if (Object.keys(rest).length === 0) return out;
  return { ...annotations, anyOf: [rest, { type: 'null' }] };
}
