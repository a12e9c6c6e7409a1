import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ToolDefinition } from '@toolbus/contracts';
import { z } from 'zod';
import type { Tool, ToolContext } from './define-tool.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/**
 * Tools whose schemas are only known at run time (imported from OpenAPI, listed by an MCP
 * server) and so are JSON Schemas, not zod. The runtime looks each call's tool up by name.
 */
export interface ToolProvider {
  get(name: string): Tool | undefined;
  list(): Tool[];
}

export function isToolProvider(value: unknown): value is ToolProvider {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ToolProvider).get === 'function' &&
    typeof (value as ToolProvider).list === 'function'
  );
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);

/** JSON Schema keywords that name another dialect; the registry has checked the schema already. */
function compile(schema: Record<string, unknown>): ValidateFunction {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return ajv.compile(rest);
}

function pathOf(error: ErrorObject): (string | number)[] {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') path.push(String(error.params['missingProperty']));
  if (error.keyword === 'additionalProperties')
    path.push(String(error.params['additionalProperty']));
  return path;
}

/**
 * A zod schema that validates with a compiled JSON Schema and reports ajv's errors as zod
 * issues, so failures carry the same JSON pointers as zod-declared tools.
 */
export function zodFromJsonSchema(schema: Record<string, unknown>): z.ZodType {
  const validate = compile(schema);
  return z.unknown().superRefine((value, ctx) => {
    if (validate(value)) return;
    for (const error of validate.errors ?? []) {
      ctx.addIssue({
        code: 'custom',
        path: pathOf(error),
        message:
          error.keyword === 'required'
            ? 'is required'
            : error.keyword === 'additionalProperties'
              ? 'is not allowed here'
              : (error.message ?? 'is invalid'),
      });
    }
  });
}

/**
 * Builds an SDK tool from a registry definition and one handler for it: the definition's input
 * and output JSON Schemas are enforced exactly as a zod tool's would be.
 */
export function jsonSchemaTool(
  definition: ToolDefinition,
  handler: (input: Record<string, unknown>, ctx: ToolContext) => Promise<unknown>,
): Tool {
  return {
    kind: 'toolbus.tool',
    name: definition.name,
    title: definition.title,
    description: definition.description,
    input: zodFromJsonSchema(definition.inputSchema),
    output: definition.outputSchema ? zodFromJsonSchema(definition.outputSchema) : z.unknown(),
    scopes: definition.scopes,
    annotations: definition.annotations,
    timeoutMs: definition.timeoutMs,
    cacheTtlSeconds: definition.cacheTtlSeconds,
    sync: definition.sync,
    region: definition.region,
    version: definition.version,
    tags: definition.tags,
    handler: (input, ctx) => handler(input as Record<string, unknown>, ctx),
  };
}
