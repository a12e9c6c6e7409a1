import type { ToolDefinition } from '@toolbus/contracts';
import { anonymousSchema, createAjv, validationIssues } from '@toolbus/json-schema';
import { z } from 'zod';
import type { Tool, ToolContext } from './define-tool.js';

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

const ajv = createAjv();

/**
 * A zod schema that validates with a compiled JSON Schema and reports ajv's errors as zod
 * issues, so failures carry the same JSON pointers as zod-declared tools.
 */
export function zodFromJsonSchema(schema: Record<string, unknown>): z.ZodType {
  // The registry has checked the schema's dialect; its $schema and $id would only confuse ajv.
  const validate = ajv.compile(anonymousSchema(schema));
  return z.unknown().superRefine((value, ctx) => {
    if (validate(value)) return;
    for (const issue of validationIssues(validate.errors))
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
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
