import { z } from 'zod';
import { Messages, SharedSchemas } from './catalog.js';

const BASE_ID = 'https://schemas.toolbus.dev/';

/**
 * One JSON Schema (draft 2020-12) per message and shared schema, keyed by file name. Checked
 * in under `libs/contracts/schemas/` by `nx run contracts:schemas`; a unit test fails when the
 * files drift from the zod schemas, so Java, Go and Python consumers validate what TypeScript
 * sends. Schemas describe the payload as it travels (the input side: defaults may be omitted).
 */
export function exportJsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  const add = (name: string, schema: z.ZodType, extra: Record<string, unknown>) => {
    const file = `${name}.schema.json`;
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
    });
    out[file] = { $id: BASE_ID + file, ...extra, ...json };
  };
  for (const m of Object.values(Messages))
    add(m.name, m.schema, { title: m.type, 'x-cloudevents-type': m.type });
  for (const [name, schema] of Object.entries(SharedSchemas)) add(name, schema, { title: name });
  return out;
}
