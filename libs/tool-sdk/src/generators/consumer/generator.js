// @ts-check
/**
 * `npx nx g @toolbus/tool-sdk:consumer <name>`: a tool consumer service, rendered from the
 * templates in libs/tool-sdk/files/consumer.
 *
 * Plain JavaScript with JSDoc types (checked by `nx run tool-sdk:typecheck`) on purpose: Nx
 * loads a generator with Node's `require()`, which takes an ES module since Node 22.12 but
 * TypeScript only through a transpiler hook, and this workspace installs none.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatFiles,
  generateFiles,
  getProjects,
  logger,
  names,
  normalizePath,
  offsetFromRoot,
} from '@nx/devkit';

const PACKAGE_ROOT = join(import.meta.dirname, '..', '..', '..');
const TEMPLATES = join(PACKAGE_ROOT, 'files', 'consumer');

/** Kebab-case words. At most 40 characters: the chart's limit on a tool consumer's name. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const NAME_MAX = 40;
/** The registry's rule for tool names. */
const TOOL = /^[a-z][a-z0-9_]{0,63}$/;
/** A team name; it ends up in a TypeScript string literal, so nothing that could break one. */
const OWNER = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/**
 * Options as the user gives them (see schema.json).
 * @typedef {object} ConsumerGeneratorSchema
 * @property {string} name
 * @property {string} [tool]
 * @property {string} [owner]
 * @property {string} [directory]
 * @property {boolean} [skipFormat]
 */

/**
 * Options after defaults and validation, plus what the templates substitute.
 * @typedef {object} NormalizedOptions
 * @property {string} name service and Nx project name
 * @property {string} packageName npm package name
 * @property {string} tool example tool name
 * @property {string} toolFile kebab-case file stem of the example tool
 * @property {string} toolVar identifier the tool is exported as
 * @property {string} serviceVar identifier the service definition is exported as
 * @property {string} scope scope the example tool requires
 * @property {string} owner owning team (default of TOOL_OWNER)
 * @property {string} directory project folder, relative to the workspace root
 * @property {string} serviceFolder project folder relative to services/ (the image's --build-arg SERVICE)
 * @property {string} offset path from the project folder back to the workspace root
 * @property {string} zodVersion the zod range the SDK itself depends on
 * @property {string} configTable the SDK's configuration table, for the README
 */

/**
 * Applies defaults and refuses, with a message that says how to fix it, anything that would
 * produce a project that does not build or cannot be deployed.
 * @param {import('@nx/devkit').Tree} tree
 * @param {ConsumerGeneratorSchema} options
 * @returns {NormalizedOptions}
 */
export function normalizeOptions(tree, options) {
  const name = typeof options.name === 'string' ? options.name.trim() : '';
  if (!NAME.test(name) || name.length > NAME_MAX) {
    throw new Error(
      `invalid tool consumer name "${name}": use kebab-case, i.e. lower-case letters and digits in words joined by single dashes, starting with a letter, at most ${NAME_MAX} characters (e.g. billing or hr-directory). The name becomes the Nx project, the Kafka topic tool_requests.<name>, the database schema and the Helm entry.`,
    );
  }
  const tool = options.tool ?? `lookup_${name.replace(/-/g, '_')}`;
  if (!TOOL.test(tool)) {
    throw new Error(
      `invalid tool name "${tool}": start with a lower-case letter and use only a-z, 0-9 and _ (at most 64 characters), e.g. get_invoice`,
    );
  }
  const owner = options.owner ?? 'platform';
  if (!OWNER.test(owner)) {
    throw new Error(
      `invalid owner "${owner}": a team name of letters, digits, ., _ and - (at most 64 characters), e.g. billing-team`,
    );
  }
  const directory = normalizePath(options.directory ?? `services/tool-consumers/${name}`)
    .replace(/^\.\//, '')
    .replace(/\/+$/, '');
  if (!/^services\/[^/]/.test(directory) || directory.split('/').includes('..')) {
    throw new Error(
      `invalid directory "${directory}": a tool consumer is a deployable and lives under services/ (default services/tool-consumers/${name})`,
    );
  }
  if (tree.exists(directory) && tree.children(directory).length > 0) {
    throw new Error(
      `${directory} already exists and is not empty: choose another name or --directory`,
    );
  }
  const taken = [...getProjects(tree)].find(([projectName]) => projectName === name);
  if (taken) {
    throw new Error(
      `an Nx project named "${name}" already exists (${taken[1].root}): choose another name`,
    );
  }
  return {
    name,
    packageName: `@toolbus/${name}-consumer`,
    tool,
    toolFile: names(tool).fileName,
    toolVar: names(tool).propertyName,
    serviceVar: `${names(name).propertyName}Service`,
    scope: `${name}:read`,
    owner,
    directory,
    serviceFolder: directory.slice('services/'.length),
    offset: offsetFromRoot(directory),
    zodVersion: sdkZodVersion(),
    configTable: sdkConfigTable(),
  };
}

/** The scaffold pins zod to the SDK's range: the tool's schemas and the SDK's must be one zod. */
function sdkZodVersion() {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  return typeof pkg.dependencies?.zod === 'string' ? pkg.dependencies.zod : '^4.1.0';
}

/**
 * The variables table of the SDK's README (kept equal to `configTable(toolConsumerConfig)` by a
 * unit test), so the consumer's README lists its configuration without a copy to maintain.
 */
function sdkConfigTable() {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const table = /<!-- config-table -->\n([\s\S]*?)\n<!-- \/config-table -->/.exec(readme);
  return table?.[1]?.trim() ?? 'See the configuration table in libs/tool-sdk/README.md.';
}

/**
 * Warns when the folder is outside the root package.json's workspaces: npm would not link the
 * package, and the Dockerfile's `npm install --workspace` would not find it.
 * @param {import('@nx/devkit').Tree} tree
 * @param {string} directory
 */
function warnOutsideWorkspaces(tree, directory) {
  if (!tree.exists('package.json')) return;
  /** @type {{ workspaces?: string[] | { packages?: string[] } }} */
  const root = JSON.parse(tree.read('package.json', 'utf8') ?? '{}');
  const globs = Array.isArray(root.workspaces)
    ? root.workspaces
    : (root.workspaces?.packages ?? []);
  if (globs.length === 0) return;
  const parent = directory.slice(0, directory.lastIndexOf('/'));
  if (!globs.some((g) => g === directory || (g.endsWith('/*') && g.slice(0, -2) === parent))) {
    logger.warn(
      `${directory} is not covered by the npm workspaces of package.json (${globs.join(', ')}); add it there before npm install and docker build`,
    );
  }
}

/**
 * The generator: renders the templates into the project folder. Touches nothing outside it.
 * @param {import('@nx/devkit').Tree} tree
 * @param {ConsumerGeneratorSchema} options
 * @returns {Promise<import('@nx/devkit').GeneratorCallback>}
 */
export async function consumerGenerator(tree, options) {
  const o = normalizeOptions(tree, options);
  warnOutsideWorkspaces(tree, o.directory);
  generateFiles(tree, TEMPLATES, o.directory, { ...o, tmpl: '' });
  if (!options.skipFormat) await formatFiles(tree);
  return () => {
    logger.info(
      [
        `${o.name}: tool ${o.tool} in ${o.directory}/src/tools/${o.toolFile}.tool.ts`,
        `  npx nx run ${o.name}:test     # its tests (in-memory bus, PGlite)`,
        `  npx nx run ${o.name}:serve    # http://127.0.0.1:8080/health/ready`,
        `  npm install                  # once: adds ${o.packageName} to package-lock.json before you commit`,
        `  then read ${o.directory}/README.md and libs/tool-sdk/README.md`,
      ].join('\n'),
    );
  };
}

export default consumerGenerator;
