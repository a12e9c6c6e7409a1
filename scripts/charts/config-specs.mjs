// Prints the environment every service of the chart reads, taken from the code: each service's
// ConfigSpec (libs/service-kit `loadConfig`), imported from its built config module. The
// chart tier's env check (scripts/charts/env-check.py) compares the rendered manifests with it.
//
//   node scripts/charts/config-specs.mjs   (after `npx nx run-many -t build`; test.sh builds first)
//
// Output: { "<service>": { "<VAR>": { "required": bool, "secret": bool } } }. A variable is
// required when it has no default and its schema refuses "unset" (what loadConfig refuses).
// With --projects it prints instead the Nx projects to build first, one a line.
//
// SERVICES is the one place that says which spec a workload of the chart runs with: the key is
// the chart's service name (app.kubernetes.io/name; a tool consumer's `name`), the value the
// built module and the export its main() loads. A chart service missing here and present under
// services/ fails the check; one whose code does not exist yet is reported as not checked.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const SERVICES = {
  registry: ['services/registry/dist/config.js', 'registryConfig'],
  'model-shim': ['services/model-shim/dist/config.js', 'modelShimConfig'],
  orchestrator: ['services/orchestrator/dist/config.js', 'orchestratorConfig'],
  // Tool consumers: the SDK's toolConsumerConfig plus the consumer's own (and, for the
  // catalog-driven ones, catalogConsumerConfig), merged by each config module as
  // runToolConsumer / runCatalogToolConsumer merge them.
  crm: ['services/tool-consumers/crm/dist/config.js', 'crmConfig'],
  erp: ['services/tool-consumers/erp/dist/config.js', 'erpConfig'],
  'http-executor': ['services/tool-consumers/http-executor/dist/config.js', 'httpExecutorConfig'],
  'mcp-bridge': ['services/tool-consumers/mcp-bridge/dist/config.js', 'mcpBridgeConfig'],
};

if (process.argv.includes('--projects')) {
  for (const [file] of Object.values(SERVICES)) {
    const project = join(root, file.slice(0, file.indexOf('/dist/')), 'project.json');
    console.log(JSON.parse(readFileSync(project, 'utf8')).name);
  }
  process.exit(0);
}

const out = {};
for (const [service, [file, name]] of Object.entries(SERVICES)) {
  const path = join(root, file);
  if (!existsSync(path)) {
    console.error(`config-specs: ${file} is missing: build first (npx nx run-many -t build)`);
    process.exit(2);
  }
  const spec = (await import(pathToFileURL(path).href))[name];
  if (!spec || typeof spec !== 'object') {
    console.error(`config-specs: ${file} exports no ConfigSpec named ${name}`);
    process.exit(2);
  }
  out[service] = Object.fromEntries(
    Object.entries(spec).map(([variable, v]) => [
      variable,
      {
        required: v.default === undefined && !v.schema.safeParse(undefined).success,
        secret: v.secret === true,
      },
    ]),
  );
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
