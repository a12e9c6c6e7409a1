import type { z } from 'zod';
import { AskCompleted, AskFailed, AskProgress, AskRequested } from './ask.js';
import { AuditEvent } from './audit.js';
import { CloudEventAttributes, describeIssues } from './cloudevents.js';
import { ModelFailed, ModelRequest, ModelResponse } from './model.js';
import { ToolCallCompleted, ToolCallFailed, ToolCallRequested } from './tool-call.js';
import {
  CatalogSnapshot,
  McpUpstreamRequest,
  OpenApiImportRequest,
  RegisterToolRequest,
  ToolVersionRecord,
} from './registry-api.js';
import { RegistryChanged, ToolDefinition } from './tool-definition.js';

/** A message kind: its CloudEvents type and the schema of its payload. */
export interface MessageKind<S extends z.ZodType = z.ZodType> {
  /** File-name-safe name, e.g. `ask.requested`. */
  readonly name: string;
  /** The `ce_type` header value. */
  readonly type: string;
  readonly schema: S;
}

function kind<S extends z.ZodType>(name: string, schema: S): MessageKind<S> {
  return { name, type: `dev.toolbus.${name}.v1`, schema };
}

/** Every message the platform sends, by name. */
export const Messages = {
  askRequested: kind('ask.requested', AskRequested),
  askProgress: kind('ask.progress', AskProgress),
  askCompleted: kind('ask.completed', AskCompleted),
  askFailed: kind('ask.failed', AskFailed),
  modelRequested: kind('model.requested', ModelRequest),
  modelResponded: kind('model.responded', ModelResponse),
  modelFailed: kind('model.failed', ModelFailed),
  toolCallRequested: kind('tool_call.requested', ToolCallRequested),
  toolCallCompleted: kind('tool_call.completed', ToolCallCompleted),
  toolCallFailed: kind('tool_call.failed', ToolCallFailed),
  auditRecorded: kind('audit.recorded', AuditEvent),
  registryChanged: kind('registry.changed', RegistryChanged),
} as const;

export type MessageName = keyof typeof Messages;
export type PayloadOf<K extends MessageKind> = z.output<K['schema']>;

const byType = new Map<string, MessageKind>(Object.values(Messages).map((m) => [m.type, m]));

/** Looks up a message kind by its `ce_type`. */
export function messageKindOfType(type: string): MessageKind | undefined {
  return byType.get(type);
}

/** Thrown by {@link parsePayload}; the message names each bad field by JSON pointer. */
export class InvalidPayloadError extends Error {
  override readonly name = 'InvalidPayloadError';
  constructor(
    readonly type: string,
    readonly issues: z.ZodError,
  ) {
    super(`payload does not match ${type}: ${describeIssues(issues)}`);
  }
}

/** Validates a payload against its kind's schema and returns the parsed value. */
export function parsePayload<K extends MessageKind>(kind: K, value: unknown): PayloadOf<K> {
  const result = kind.schema.safeParse(value);
  if (!result.success) throw new InvalidPayloadError(kind.type, result.error);
  return result.data as PayloadOf<K>;
}

/** Schemas that are not messages but are exported for other languages too. */
export const SharedSchemas = {
  'cloudevent.attributes': CloudEventAttributes,
  'tool.definition': ToolDefinition,
  'registry.register-tool': RegisterToolRequest,
  'registry.tool-version': ToolVersionRecord,
  'registry.catalog-snapshot': CatalogSnapshot,
  'registry.openapi-import': OpenApiImportRequest,
  'registry.mcp-upstream': McpUpstreamRequest,
} as const;
