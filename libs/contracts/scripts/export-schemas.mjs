// Writes libs/contracts/schemas/*.schema.json from the built library (nx run contracts:schemas).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// Runs against the built package (dist), the way another consumer of the library sees it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { exportJsonSchemas } from '@toolbus/contracts';

const dir = join(import.meta.dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.schema.json')) rmSync(join(dir, f));
const schemas = exportJsonSchemas();
for (const [file, schema] of Object.entries(schemas)) {
  writeFileSync(join(dir, file), JSON.stringify(schema, null, 2) + '\n');
}
console.log(`wrote ${Object.keys(schemas).length} JSON Schemas to ${dir}`);
