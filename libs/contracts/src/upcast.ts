import { InvalidPayloadError, type MessageKind } from './catalog.js';

/**
 * The kinds whose upcasts lift a payload of `from` to `to`, in the order they apply. Throws,
 * naming the gap, when `from` is not an older version of `to` or an upcast is missing.
 */
export function upcastPath(from: MessageKind, to: MessageKind): MessageKind[] {
  if (from.name !== to.name || from.version >= to.version) {
    throw new Error(`${from.type} is not an older version of ${to.type}`);
  }
  const path: MessageKind[] = [];
  let step: MessageKind = to;
  while (step.version > from.version) {
    if (!step.upcast) {
      throw new Error(
        `cannot upcast ${from.type} to ${to.type}: ${step.type} declares no upcast from an older version`,
      );
    }
    path.unshift(step);
    step = step.upcast.from;
  }
  if (step.type !== from.type) {
    throw new Error(
      `cannot upcast ${from.type} to ${to.type}: the upcasts skip it (${path[0]!.type} lifts from ${step.type})`,
    );
  }
  return path;
}

/**
 * Lifts a valid payload of `path[0].upcast.from` through each kind of `path` (see
 * {@link upcastPath}), validating every step, so a broken upcast is caught where it happens.
 * Throws InvalidPayloadError naming the version whose schema the lifted payload failed.
 */
export function upcastPayload(path: readonly MessageKind[], value: unknown): unknown {
  let current = value;
  for (const kind of path) {
    const parsed = kind.schema.safeParse(kind.upcast!.lift(current));
    if (!parsed.success) throw new InvalidPayloadError(kind.type, parsed.error);
    current = parsed.data;
  }
  return current;
}
