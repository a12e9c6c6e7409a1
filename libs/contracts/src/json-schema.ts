import { z } from 'zod';
import { AllMessageKinds, SharedSchemas, type MessageKind } from './catalog.js';

const BASE_ID = 'https://schemas.toolbus.dev/';

/**
 * The file a message kind's JSON Schema is exported to: `<name>.schema.json` for v1 (the name
 * other languages have read since before versions were explicit), `<name>.v<N>.schema.json` after.
 */
export function schemaFileOf(kind: Pick<MessageKind, 'name' | 'version'>): string {
  return kind.version === 1
    ? `${kind.name}.schema.json`
    : `${kind.name}.v${kind.version}.schema.json`;
}

/**
 * One JSON Schema (draft 2020-12) per message version and shared schema, keyed by file name. Checked
 * in under `libs/contracts/schemas/` by `nx run contracts:schemas`; a unit test fails when the
 * files drift from the zod schemas, so Java, Go and Python consumers validate what TypeScript
 * sends. Schemas describe the payload as it travels (the input side: defaults may be omitted).
 * `kinds` defaults to every declared message version; tests pass others to try a change out.
 */
export function exportJsonSchemas(
  kinds: readonly MessageKind[] = AllMessageKinds,
): Record<string, object> {
  const out: Record<string, object> = {};
  const add = (file: string, schema: z.ZodType, extra: Record<string, unknown>) => {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
    });
    out[file] = { $id: BASE_ID + file, ...extra, ...json };
  };
  for (const m of kinds)
    add(schemaFileOf(m), m.schema, { title: m.type, 'x-cloudevents-type': m.type });
  for (const [name, schema] of Object.entries(SharedSchemas))
    add(`${name}.schema.json`, schema, { title: name });
  return out;
}
