import { describeIssues, upcastPath, upcastPayload, type MessageKind } from '@toolbus/contracts';
import { errorMessage, PoisonMessageError } from './errors.js';
import type { SubscribeOptions } from './types.js';

/** What a subscription accepts and how it validates a payload; built once, at subscribe time. */
export interface PayloadReader {
  /** The accepted `ce_type`s; undefined accepts any. */
  readonly types: readonly string[] | undefined;
  /** Validates (and upcasts) the JSON value of an accepted type; throws PoisonMessageError. */
  read(type: string, value: unknown): { value: unknown; kind?: MessageKind };
}

/** Accepts any type and any JSON value: raw subscriptions and replies. */
export const ANY_PAYLOAD: PayloadReader = { types: undefined, read: (_type, value) => ({ value }) };

type AcceptOptions = Pick<SubscribeOptions, 'schema' | 'types' | 'kind' | 'olderVersions'>;

/**
 * The reader of a subscription's options. With `kind`, each accepted version is validated by
 * its own schema and an older one is then lifted to `kind`'s shape through the upcasts
 * declared with the kinds, so the handler is written once, for one shape, and `message.kind`
 * still says which version the producer sent. The alternative, handing every version to the
 * handler as it came, would make each consumer branch on the version and repeat the same
 * v1-to-v2 translation; declared once beside the two schemas it joins, it is written and tested
 * once. Throws at subscribe time, naming the problem, when an older version cannot be lifted.
 */
export function payloadReader(options: AcceptOptions): PayloadReader {
  const { kind, olderVersions = [] } = options;
  if (!kind) {
    if (olderVersions.length > 0) {
      throw new Error('olderVersions needs kind: name the version the handler is written for');
    }
    return schemaReader(options);
  }
  if (options.schema || options.types) {
    throw new Error(
      `give kind (${kind.type}) or schema and types, not both: the kind brings its schema and type`,
    );
  }
  const routes = new Map<string, { arrived: MessageKind; path: MessageKind[] }>();
  routes.set(kind.type, { arrived: kind, path: [] });
  for (const older of olderVersions)
    routes.set(older.type, { arrived: older, path: upcastPath(older, kind) });
  const types = [...routes.values()]
    .sort((a, b) => a.arrived.version - b.arrived.version)
    .map((r) => r.arrived.type);
  return {
    types,
    read(type, value) {
      const { arrived, path } = routes.get(type)!;
      const parsed = arrived.schema.safeParse(value);
      if (!parsed.success) {
        throw new PoisonMessageError(
          `payload does not match ${type}: ${describeIssues(parsed.error)}`,
        );
      }
      if (path.length === 0) return { value: parsed.data, kind: arrived };
      try {
        return { value: upcastPayload(path, parsed.data), kind: arrived };
      } catch (error) {
        // The payload was valid; the upcast declared in libs/contracts is what failed.
        throw new PoisonMessageError(
          `could not upcast ${type} to ${kind.type}: ${errorMessage(error)}`,
        );
      }
    },
  };
}

function schemaReader({ schema, types }: AcceptOptions): PayloadReader {
  return {
    types,
    read(type, value) {
      if (!schema) return { value };
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        throw new PoisonMessageError(
          `payload does not match ${type}: ${describeIssues(parsed.error)}`,
        );
      }
      return { value: parsed.data };
    },
  };
}
