import { z } from 'zod';
import type { Principal, ToolAnnotations, ToolDefinition, ToolTransport } from '@toolbus/contracts';
import type { Span } from '@opentelemetry/api';
import type { EntityManager } from '@toolbus/persistence';
import type { Logger } from '@toolbus/observability';

/** What a handler gets besides its input. */
export interface ToolContext {
  principal: Principal;
  tenant: string;
  idempotencyKey: string;
  callId: string;
  /** Epoch milliseconds after which the result is no longer wanted. */
  deadline: number;
  /** Aborted at the deadline (and on shutdown); pass it to every I/O call. */
  signal: AbortSignal;
  logger: Logger;
  span: Span;
  /**
   * Runs `fn` in a transaction of the consumer's database and commits, in the same transaction,
   * the dedup record holding `fn`'s return value as the tool's result. A tool whose effect lives
   * in that database thereby happens exactly once: `return ctx.transaction(async (em) => ...)`.
   * The result is checked against the output schema before commit; an invalid one rolls back.
   */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T>;
}

export interface ToolSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** `^[a-z][a-z0-9_]{0,63}$`, unique in the registry. */
  name: string;
  title: string;
  /** What the model reads to decide whether to call the tool: say what it does and returns. */
  description: string;
  input: I;
  output: O;
  /** Scopes a caller needs (all of them). */
  scopes: string[];
  annotations?: Partial<ToolAnnotations>;
  /** Default 2000 (the synchronous-call budget). */
  timeoutMs?: number;
  cacheTtlSeconds?: number;
  /** Synchronous tools are also served over HTTP with a deadline. Default false. */
  sync?: boolean;
  /** Where the tool processes data; default from the consumer's config. */
  region?: string;
  version?: string;
  tags?: string[];
  handler: (input: z.output<I>, ctx: ToolContext) => Promise<z.input<O>>;
}

/** A tool as the SDK keeps it. */
export type Tool = ToolSpec & { readonly kind: 'toolbus.tool' };

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Declares a tool. Throws at once, naming the problem, when the declaration is unusable. */
export function defineTool<I extends z.ZodType, O extends z.ZodType>(spec: ToolSpec<I, O>): Tool {
  if (!NAME.test(spec.name)) throw new Error(`tool name "${spec.name}" must match ${NAME.source}`);
  if (!spec.description || spec.description.length < 10)
    throw new Error(
      `tool ${spec.name}: give a description of at least 10 characters (the model reads it)`,
    );
  const inputSchema = z.toJSONSchema(spec.input, { io: 'input', unrepresentable: 'any' }) as {
    type?: unknown;
  };
  if (inputSchema.type !== 'object')
    throw new Error(
      `tool ${spec.name}: input must be a zod object schema (MCP and the registry require an object)`,
    );
  return { ...(spec as unknown as ToolSpec), kind: 'toolbus.tool' };
}

/** The registry's view of a tool: JSON Schemas instead of zod, plus where it is served. */
export function toToolDefinition(
  tool: Tool,
  consumer: { owner: string; region: string; transport: ToolTransport; version?: string },
): Omit<ToolDefinition, 'status'> {
  const json = (schema: z.ZodType, io: 'input' | 'output') => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    return rest;
  };
  return {
    name: tool.name,
    version: tool.version ?? consumer.version ?? '1.0.0',
    title: tool.title,
    description: tool.description,
    inputSchema: json(tool.input, 'input'),
    outputSchema: json(tool.output, 'output'),
    annotations: {
      readOnlyHint: tool.annotations?.readOnlyHint ?? false,
      destructiveHint:
        tool.annotations?.destructiveHint ?? !(tool.annotations?.readOnlyHint ?? false),
      idempotentHint: tool.annotations?.idempotentHint ?? false,
      openWorldHint: tool.annotations?.openWorldHint ?? false,
    },
    owner: consumer.owner,
    scopes: tool.scopes,
    timeoutMs: tool.timeoutMs ?? 2000,
    cacheTtlSeconds: tool.cacheTtlSeconds ?? 0,
    transport: consumer.transport,
    sync: tool.sync ?? false,
    region: tool.region ?? consumer.region,
    tags: tool.tags ?? [],
  };
}
