import type { z } from 'zod';
import { AskCompleted, AskFailed, AskProgress, AskRequested } from './ask.js';
import { AuditEvent } from './audit.js';
import { CloudEventAttributes, describeIssues } from './cloudevents.js';
import { ToolInvocationAnswered, ToolInvocationRequested } from './invoke.js';
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

/**
 * How a payload of an older version of a message becomes this version's. Declared with the
 * newer kind, so a subscriber written for the newer shape can accept the older one too.
 */
export interface Upcast {
  /** The version this one is lifted from: the same message, a lower version. */
  readonly from: MessageKind;
  /** Turns a valid payload of `from` into this version's payload (which is validated again). */
  readonly lift: (previous: unknown) => unknown;
}

/** A message kind: one version of a message, its CloudEvents type and the schema of its payload. */
export interface MessageKind<S extends z.ZodType = z.ZodType> {
  /** File-name-safe name, e.g. `ask.requested`; the same for every version of a message. */
  readonly name: string;
  /** 1, 2, ...: a breaking change to a message is a new version beside the old one. */
  readonly version: number;
  /** The `ce_type` header value: `dev.toolbus.<name>.v<version>`. */
  readonly type: string;
  readonly schema: S;
  /** Present when this version can be derived from the previous one. */
  readonly upcast?: Upcast;
}

export type PayloadOf<K extends MessageKind> = z.output<K['schema']>;

const NAME = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

/**
 * Declares one version of a message. Its `ce_type` is derived: `dev.toolbus.<name>.v<version>`.
 * A v2 declares `upcast: { from: v1, lift }` when a v1 payload can be turned into a v2 one, which
 * lets subscribers written for v2 accept producers that still send v1 (docs/contracts.md).
 * TypeScript widens string literals the lift returns (`'normal'` becomes string) while it
 * still infers `schema`'s type in the same call: write them `'normal' as const`.
 */
export function messageKind<S extends z.ZodType, P extends MessageKind = MessageKind>(
  name: string,
  version: number,
  schema: S,
  options: { upcast?: { from: P; lift: (previous: PayloadOf<P>) => z.input<S> } } = {},
): MessageKind<S> {
  if (!NAME.test(name)) {
    throw new Error(
      `message name "${name}" is invalid: use dot-separated lower-case words, e.g. tool_call.requested`,
    );
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`message ${name}: version must be a positive integer, got ${version}`);
  }
  const type = `dev.toolbus.${name}.v${version}`;
  const upcast = options.upcast;
  if (upcast && (upcast.from.name !== name || upcast.from.version >= version)) {
    throw new Error(
      `${type} cannot upcast from ${upcast.from.type}: it must be an older version of ${name}`,
    );
  }
  return {
    name,
    version,
    type,
    schema,
    ...(upcast ? { upcast: { from: upcast.from, lift: upcast.lift as Upcast['lift'] } } : {}),
  };
}

/** Every message the platform sends, by name: the version producers send today. */
export const Messages = {
  askRequested: messageKind('ask.requested', 1, AskRequested),
  askProgress: messageKind('ask.progress', 1, AskProgress),
  askCompleted: messageKind('ask.completed', 1, AskCompleted),
  askFailed: messageKind('ask.failed', 1, AskFailed),
  modelRequested: messageKind('model.requested', 1, ModelRequest),
  modelResponded: messageKind('model.responded', 1, ModelResponse),
  modelFailed: messageKind('model.failed', 1, ModelFailed),
  toolCallRequested: messageKind('tool_call.requested', 1, ToolCallRequested),
  toolCallCompleted: messageKind('tool_call.completed', 1, ToolCallCompleted),
  toolCallFailed: messageKind('tool_call.failed', 1, ToolCallFailed),
  auditRecorded: messageKind('audit.recorded', 1, AuditEvent),
  registryChanged: messageKind('registry.changed', 1, RegistryChanged),
  toolInvocationRequested: messageKind('tool_invocation.requested', 1, ToolInvocationRequested),
  toolInvocationAnswered: messageKind('tool_invocation.answered', 1, ToolInvocationAnswered),
} as const;

export type MessageName = keyof typeof Messages;

/**
 * Versions declared beside the current ones in {@link Messages}: a v2 on its way in (subscribers
 * accept it before producers switch to it) or a v1 on its way out (still accepted until its
 * window closes). Empty between migrations; docs/contracts.md walks through one.
 */
export const OtherMessageVersions = {} as const satisfies Record<string, MessageKind>;

/** Indexes kinds by `ce_type`, refusing two declarations of one type. */
export function indexMessageKinds(kinds: readonly MessageKind[]): Map<string, MessageKind> {
  const byType = new Map<string, MessageKind>();
  for (const kind of kinds) {
    if (byType.has(kind.type)) throw new Error(`message type ${kind.type} is declared twice`);
    byType.set(kind.type, kind);
  }
  return byType;
}

const byType = indexMessageKinds([
  ...Object.values(Messages),
  ...Object.values(OtherMessageVersions as Record<string, MessageKind>),
]);

/** Every declared version of every message: the current ones and those beside them. */
export const AllMessageKinds: readonly MessageKind[] = [...byType.values()];

/** Looks up a message kind, of any declared version, by its `ce_type`. */
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
