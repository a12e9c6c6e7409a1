import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const nodeVersion = read('.node-version').trim();

/**
 * The environment without the override, so the scripts read .node-version itself, and without
 * an outer make's flags (this test may run under `make test`).
 */
function envWithoutOverride(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['TOOLBUS_NODE_VERSION', 'MAKEFLAGS', 'MFLAGS', 'MAKELEVEL']) delete env[name];
  return env;
}

/**
 * One Node.js version for the whole repository: .node-version. The scripts fetch it for
 * development and tests, and the service images are built from it; these checks fail when a
 * copy drifts from it.
 */
describe('the one Node.js version', () => {
  it('is an exact version that satisfies package.json engines', () => {
    expect(nodeVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines;
    const minimum = /^>=(\d+)\.(\d+)$/.exec(engines.node);
    expect(minimum, `engines.node "${engines.node}" is not of the form >=major.minor`).not.toBe(
      null,
    );
    const [major, minor] = nodeVersion.split('.').map(Number) as [number, number];
    const [minMajor, minMinor] = [Number(minimum?.[1]), Number(minimum?.[2])];
    expect(
      major > minMajor || (major === minMajor && minor >= minMinor),
      `.node-version ${nodeVersion} must satisfy engines.node "${engines.node}"`,
    ).toBe(true);
  });

  it('is what scripts/lib.sh gives ensure-node.sh', () => {
    const fromScripts = execFileSync(
      'bash',
      ['-c', 'source scripts/lib.sh && printf %s "$NODE_VERSION"'],
      { cwd: root, env: envWithoutOverride(), encoding: 'utf8' },
    );
    expect(fromScripts, 'NODE_VERSION of scripts/lib.sh must come from .node-version').toBe(
      nodeVersion,
    );
  });

  it('is the default of the service Dockerfile, whose base image is built from it', () => {
    const dockerfile = read('scripts/charts/Dockerfile.service');
    expect(
      /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1],
      'ARG NODE_VERSION in scripts/charts/Dockerfile.service must equal .node-version',
    ).toBe(nodeVersion);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\$\{NODE_VERSION\}-/m);
    // No stage may pin its own Node image beside the argument.
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThan(0);
    expect(bases.filter((base) => base !== '${NODE_IMAGE}')).toEqual([]);
  });

  it('is what make images passes to docker build', () => {
    // -n prints the recipe without running it (no Docker needed); make expands its variables.
    const recipe = execFileSync('make', ['-n', '--no-print-directory', 'images'], {
      cwd: root,
      env: envWithoutOverride(),
      encoding: 'utf8',
    });
    expect(recipe).toContain(`--build-arg NODE_VERSION=${nodeVersion} `);
  });
});
