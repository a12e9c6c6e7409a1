import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The generator's output must build and pass its own checks in the real workspace: a tree in
// memory cannot show that Nx finds the generator, that the project joins the graph, or that
// its imports resolve. So this test generates a consumer here, runs its targets as a developer
// would, and removes it again, whatever happens.

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** What `npx nx` and `npx prettier` run, started with this Node. */
const NX = join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const PRETTIER = join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const STEP_TIMEOUT_MS = 10 * 60_000;

const name = `gen-e2e-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
const dir = `services/tool-consumers/${name}`;
const report = join(ROOT, 'reports', 'tests', `${name}.unit.json`);

/** The child inherits the environment minus what marks this process as a vitest worker or an Nx task. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VITEST|NX_TASK_|NX_TERMINAL_)/.test(key)) continue;
    if (['TEST', 'NX_STREAM_OUTPUT', 'NX_PREFIX_OUTPUT'].includes(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
}

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs a command in the workspace root; stdout and stderr together, as a developer sees them. */
function run(args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv() });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), STEP_TIMEOUT_MS - 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        output: output.replace(/\x1b\[[0-9;]*m/g, ''), // eslint-disable-line no-control-regex
        seconds: Math.round((performance.now() - started) / 100) / 10,
      });
    });
  });
}

const nx = (...args: string[]) => run([NX, ...args]);
const tail = (text: string, lines = 80) => text.trim().split('\n').slice(-lines).join('\n');
const failed = (what: string, r: Run) => `${what} exited ${r.code}:\n${tail(r.output)}`;

/** Paths `nx g` reports: CREATE / UPDATE / DELETE <path>. */
function plannedChanges(output: string): Array<{ type: string; path: string }> {
  return [...output.matchAll(/^(CREATE|UPDATE|DELETE) (\S.*)$/gm)].map((m) => ({
    type: m[1]!,
    path: m[2]!.trim(),
  }));
}

/** Changed and untracked files as git sees them, one path each. */
async function gitStatus(): Promise<Set<string>> {
  const r = await new Promise<Run>((resolve, reject) => {
    const child = spawn('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, seconds: 0 }));
  });
  expect(r.code, 'git status').toBe(0);
  return new Set(
    r.output
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3)),
  );
}

const inProject = (path: string) => path === dir || path.startsWith(`${dir}/`);
const timings: string[] = [];
/** Set once the project is generated; the later steps are pointless without it. */
let generatedOk = false;
const requireGenerated = () =>
  expect(generatedOk, 'the project was not generated (see the first test)').toBe(true);

describe("the generator's output passes its own tests in CI", () => {
  /** Workspace files outside the project the generator said it would touch, as they were. */
  const saved = new Map<string, Buffer | null>();
  const parent = dirname(join(ROOT, dir));
  const parentExisted = existsSync(parent);

  afterAll(() => {
    // Runs even when a step failed: leave the workspace as it was.
    rmSync(join(ROOT, dir), { recursive: true, force: true });
    rmSync(report, { force: true });
    for (const [path, content] of saved) {
      if (content === null) rmSync(join(ROOT, path), { force: true });
      else writeFileSync(join(ROOT, path), content);
    }
    if (!parentExisted && existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent);
    if (timings.length > 0) console.log(`generator e2e (${name}): ${timings.join(', ')}`);
  });

  it(
    'generates the project into its own folder and touches nothing else',
    async () => {
      expect(existsSync(join(ROOT, dir)), `${dir} exists already`).toBe(false);
      const dry = await nx(
        'g',
        '@toolbus/tool-sdk:consumer',
        name,
        '--dry-run',
        '--no-interactive',
      );
      expect(dry.code, failed('nx g --dry-run', dry)).toBe(0);
      const planned = plannedChanges(dry.output);
      for (const { path } of planned.filter((c) => !inProject(c.path))) {
        const file = join(ROOT, path);
        saved.set(path, existsSync(file) ? readFileSync(file) : null);
      }
      expect(planned.filter((c) => !inProject(c.path))).toEqual([]);

      const before = await gitStatus();
      const generated = await nx('g', '@toolbus/tool-sdk:consumer', name, '--no-interactive');
      timings.push(`generate ${generated.seconds}s`);
      for (const { path } of plannedChanges(generated.output).filter((c) => !inProject(c.path)))
        if (!saved.has(path)) saved.set(path, null);
      expect(generated.code, failed('nx g', generated)).toBe(0);
      expect(plannedChanges(generated.output)).toEqual(planned);

      const added = [...(await gitStatus())].filter((path) => !before.has(path)).sort();
      expect(
        added.filter((path) => !inProject(path)),
        'files outside the project changed while nx g ran (by the generator, or by another process editing the workspace at that moment)',
      ).toEqual([]);
      expect(added).toEqual(planned.map((c) => c.path).sort());
      expect(added).toContain(`${dir}/src/tools/lookup-${name}.tool.spec.ts`);
      generatedOk = true;
    },
    STEP_TIMEOUT_MS,
  );

  it.each(['build', 'typecheck', 'lint', 'test'])(
    `nx run ${name}:%s succeeds without edits`,
    async (target) => {
      requireGenerated();
      const r = await nx('run', `${name}:${target}`, '--outputStyle=static');
      timings.push(`${target} ${r.seconds}s`);
      expect(r.code, failed(`nx run ${name}:${target}`, r)).toBe(0);
      if (target === 'build')
        expect(existsSync(join(ROOT, dir, 'dist', 'main.js')), 'dist/main.js').toBe(true);
      if (target === 'test') {
        // The tests ran, not merely "no test files".
        const results = JSON.parse(readFileSync(report, 'utf8')) as {
          numPassedTests: number;
          numFailedTests: number;
        };
        expect(results.numFailedTests).toBe(0);
        expect(results.numPassedTests).toBeGreaterThanOrEqual(5);
      }
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'writes files Prettier accepts',
    async () => {
      requireGenerated();
      const r = await run([PRETTIER, '--check', dir]);
      expect(r.code, failed(`prettier --check ${dir}`, r)).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );
});
