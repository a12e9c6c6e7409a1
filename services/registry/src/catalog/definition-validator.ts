import { RegisterToolRequest, jsonPointer, type FieldIssue } from '@toolbus/contracts';
import { createAjv, DIALECT_URIS } from '@toolbus/json-schema';
import { ProblemError } from '@toolbus/service-kit';

/** Largest JSON Schema accepted, serialized. Models read these; a megabyte is a mistake. */
const MAX_SCHEMA_BYTES = 256 * 1024;

// One instance for the process: each check compiles, then removes its schema so the cache
// does not grow.
const ajv = createAjv();

/**
 * Checks a tool definition beyond its shape: the schemas compile (draft 2020-12, no remote
 * references), the input schema describes an object, scopes and tags are not repeated.
 * Returns the parsed definition or throws a 422 naming every bad field by JSON pointer.
 */
export function validateDefinition(body: unknown): RegisterToolRequest {
  const parsed = RegisterToolRequest.safeParse(body);
  if (!parsed.success) {
    throw unprocessable(
      parsed.error.issues.slice(0, 50).map((i) => ({
        pointer: jsonPointer(i.path),
        message: i.message,
      })),
    );
  }
  const definition = parsed.data;
  const issues: FieldIssue[] = [];
  issues.push(...schemaIssues('/inputSchema', definition.inputSchema, true));
  if (definition.outputSchema)
    issues.push(...schemaIssues('/outputSchema', definition.outputSchema, false));
  const dupScope = definition.scopes.find((s, i) => definition.scopes.indexOf(s) !== i);
  if (dupScope) issues.push({ pointer: '/scopes', message: `scope "${dupScope}" is listed twice` });
  const dupTag = definition.tags.find((t, i) => definition.tags.indexOf(t) !== i);
  if (dupTag) issues.push({ pointer: '/tags', message: `tag "${dupTag}" is listed twice` });
  if (definition.sync && definition.transport.kind !== 'http')
    issues.push({
      pointer: '/transport',
      message: 'a synchronous tool must be served over http (give its URL)',
    });
  if (issues.length) throw unprocessable(issues);
  return definition;
}

function schemaIssues(
  pointer: string,
  schema: Record<string, unknown>,
  mustBeObject: boolean,
): FieldIssue[] {
  const size = JSON.stringify(schema).length;
  if (size > MAX_SCHEMA_BYTES)
    return [{ pointer, message: `is ${size} bytes; at most ${MAX_SCHEMA_BYTES} are accepted` }];
  const refs = remoteRefs(schema, pointer);
  if (refs.length) return refs;
  if (mustBeObject) {
    const type = schema['type'];
    if (type !== 'object')
      return [
        {
          pointer: `${pointer}/type`,
          message: `must be "object" (tools take named arguments); got ${JSON.stringify(type) ?? 'nothing'}`,
        },
      ];
    if (schema['properties'] !== undefined && !isPlainObject(schema['properties']))
      return [
        { pointer: `${pointer}/properties`, message: 'must be an object of property schemas' },
      ];
  }
  try {
    const { $schema, ...rest } = schema;
    if ($schema !== undefined && $schema !== DIALECT_URIS['2020-12'])
      return [
        {
          pointer: `${pointer}/$schema`,
          message: `must be draft 2020-12 (${DIALECT_URIS['2020-12']}) or absent`,
        },
      ];
    try {
      ajv.compile(rest);
    } finally {
      ajv.removeSchema(rest);
    }
    return [];
  } catch (error) {
    return [{ pointer, message: `does not compile as JSON Schema: ${(error as Error).message}` }];
  }
}

/** `$ref`s that leave the schema: never fetched, so refused up front. */
function remoteRefs(node: unknown, pointer: string): FieldIssue[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => remoteRefs(n, `${pointer}/${i}`));
  if (!isPlainObject(node)) return [];
  const out: FieldIssue[] = [];
  for (const [key, value] of Object.entries(node)) {
    const child = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key === '$ref' && typeof value === 'string' && !value.startsWith('#'))
      out.push({ pointer: child, message: `refers outside the schema (${value}); inline it` });
    else out.push(...remoteRefs(value, child));
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unprocessable(issues: FieldIssue[]): ProblemError {
  return new ProblemError(
    422,
    'invalid_definition',
    `the tool definition is invalid: ${issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`.slice(
      0,
      2000,
    ),
    { issues },
  );
}
