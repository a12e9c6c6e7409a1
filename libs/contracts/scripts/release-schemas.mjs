// Freezes the exported JSON Schemas as the released baseline (nx run contracts:release-schemas):
// copies schemas/*.schema.json to schemas/released/<version>/, the version being this package's
// (bumped with the chart at a release) or `--release-version=<x.y.z>`. The compatibility test compares
// the current schemas with the newest baseline; older baselines stay in git history.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { 'release-version': { type: 'string' } } });
const version =
  values['release-version'] ?? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
if (!/^\d+\.\d+\.\d+$/.test(version)) {
  console.error(`release-schemas: version "${version}" is not x.y.z`);
  process.exit(1);
}
const schemas = join(root, 'schemas');
const releasedRoot = join(schemas, 'released');
rmSync(releasedRoot, { recursive: true, force: true });
const target = join(releasedRoot, version);
mkdirSync(target, { recursive: true });
const files = readdirSync(schemas).filter((f) => f.endsWith('.schema.json'));
for (const f of files) copyFileSync(join(schemas, f), join(target, f));
console.log(`froze ${files.length} JSON Schemas as released ${version} in ${target}`);
