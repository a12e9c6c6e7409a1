import { addProjectConfiguration, logger, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consumerGenerator } from './generator.js';

/** Every file under `dir`, relative to it. */
function filesUnder(tree: Tree, dir: string): string[] {
  const walk = (path: string): string[] =>
    tree.isFile(path)
      ? [path.slice(dir.length + 1)]
      : tree.children(path).flatMap((child) => walk(`${path}/${child}`));
  return walk(dir).sort();
}

/** What the generator changed: the tree's changes minus the empty workspace's own files. */
async function generate(tree: Tree, options: Parameters<typeof consumerGenerator>[1]) {
  const before = new Set(tree.listChanges().map((c) => c.path));
  await consumerGenerator(tree, options);
  return tree.listChanges().filter((c) => !before.has(c.path));
}

const read = (tree: Tree, path: string) => tree.read(path, 'utf8') ?? '';
const json = (tree: Tree, path: string) => JSON.parse(read(tree, path)) as Record<string, unknown>;

describe('consumer generator', () => {
  // 'none': assert exactly what the generator wrote (Prettier runs in the real workspace).
  const workspace = () => createTreeWithEmptyWorkspace({ formatter: 'none' });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('scaffolds a project with one tool, its test and a README, and touches nothing else', async () => {
    const tree = workspace();
    const changes = await generate(tree, { name: 'billing', skipFormat: true });
    const dir = 'services/tool-consumers/billing';
    expect(filesUnder(tree, dir)).toEqual([
      'README.md',
      'package.json',
      'project.json',
      'src/billing.service.ts',
      'src/main.ts',
      'src/tools/lookup-billing.tool.spec.ts',
      'src/tools/lookup-billing.tool.ts',
      'src/tracing.ts',
      'tsconfig.app.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    expect(changes).toHaveLength(11);
    for (const change of changes) {
      expect(change.path.startsWith(`${dir}/`), change.path).toBe(true);
      expect(change.type).toBe('CREATE');
      // No template syntax or __placeholders__ survive rendering.
      expect(change.content?.toString(), change.path).not.toMatch(/<%|%>|__tmpl__/);
    }
  });

  it('substitutes the name, the default tool and owner, and the paths back to the root', async () => {
    const tree = workspace();
    await consumerGenerator(tree, { name: 'billing', skipFormat: true });
    const dir = 'services/tool-consumers/billing';

    expect(json(tree, `${dir}/package.json`)).toMatchObject({
      name: '@toolbus/billing-consumer',
      type: 'module',
      dependencies: { '@toolbus/tool-sdk': '*', zod: expect.stringMatching(/^\^4\./) },
    });
    expect(json(tree, `${dir}/project.json`)).toMatchObject({
      name: 'billing',
      $schema: '../../../node_modules/nx/schemas/project-schema.json',
      sourceRoot: `${dir}/src`,
      projectType: 'application',
      tags: ['scope:tools', 'type:service'],
      targets: {
        build: { options: { command: 'tsc -p tsconfig.app.json' } },
        typecheck: {},
        lint: {},
        test: {},
        serve: { dependsOn: ['build'], options: { command: 'node dist/main.js' } },
      },
    });
    expect(json(tree, `${dir}/tsconfig.json`)).toMatchObject({
      extends: '../../../tsconfig.base.json',
    });
    expect(json(tree, `${dir}/tsconfig.app.json`)).toMatchObject({
      extends: '../../../tsconfig.base.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist' },
    });
    expect(read(tree, `${dir}/vitest.config.ts`)).toContain(
      "from '../../../tools/vitest/config.ts'",
    );
    expect(read(tree, `${dir}/src/tracing.ts`)).toContain("serviceName: 'billing'");

    const main = read(tree, `${dir}/src/main.ts`);
    expect(main.split('\n')[0]).toBe("import './tracing.js';");
    expect(main).toContain("import { billingService } from './billing.service.js';");
    expect(main).toContain('runService(billingService);');
    const service = read(tree, `${dir}/src/billing.service.ts`);
    expect(service).toContain("import { lookupBilling } from './tools/lookup-billing.tool.js';");
    expect(service).toContain('export const billingService = toolConsumer({');
    expect(service).toContain("service: 'billing'");
    expect(service).toContain('tools: [lookupBilling]');
    expect(service).toContain("default: 'platform'");

    const tool = read(tree, `${dir}/src/tools/lookup-billing.tool.ts`);
    expect(tool).toContain('export const lookupBilling = defineTool({');
    expect(tool).toContain("name: 'lookup_billing'");
    expect(tool).toContain("scopes: ['billing:read']");
    expect(tool).toContain('annotations: { readOnlyHint: true, idempotentHint: true }');
    const spec = read(tree, `${dir}/src/tools/lookup-billing.tool.spec.ts`);
    expect(spec).toContain("from '../billing.service.js'");
    expect(spec).toContain('/tools/lookup_billing:invoke');
    expect(spec).toContain("DATABASE_URL: 'pglite://memory'");

    const readme = read(tree, `${dir}/README.md`);
    // The image comes from the one Dockerfile of every service, told which service to build.
    expect(readme).toContain(
      'docker build -f scripts/charts/Dockerfile.service --build-arg SERVICE=tool-consumers/billing -t ghcr.io/toolbus/toolbus-billing:0.1.0 .',
    );
    expect(readme).toMatch(/^# billing tool consumer/);
    expect(readme).toContain('(../../../libs/tool-sdk/README.md)');
    expect(readme).toContain('POST /tools/<tool>:invoke');
    // The SDK's variables, copied from its README.
    expect(readme).toMatch(
      /\| `DATABASE_URL` +\| The consumer database \(dedup records and the tools' own/,
    );
    expect(readme).toContain('- name: billing');
  });

  it('takes the tool name, owner and directory as options', async () => {
    const tree = workspace();
    await consumerGenerator(tree, {
      name: 'billing',
      tool: 'get_invoice',
      owner: 'billing-team',
      directory: './services/billing/',
      skipFormat: true,
    });
    expect(filesUnder(tree, 'services/billing')).toContain('src/tools/get-invoice.tool.ts');
    expect(read(tree, 'services/billing/src/tools/get-invoice.tool.ts')).toContain(
      "export const getInvoice = defineTool({\n  name: 'get_invoice',",
    );
    expect(read(tree, 'services/billing/src/billing.service.ts')).toContain(
      "default: 'billing-team'",
    );
    expect(json(tree, 'services/billing/tsconfig.json')).toMatchObject({
      extends: '../../tsconfig.base.json',
    });
    expect(read(tree, 'services/billing/README.md')).toContain('--build-arg SERVICE=billing ');
    expect(read(tree, 'services/billing/README.md')).toContain('Owner: billing-team.');
  });

  it.each([
    ['Billing'],
    ['billing_api'],
    ['billing api'],
    ['-billing'],
    ['billing-'],
    ['bill--ing'],
    ['1billing'],
    [''],
    ['a'.repeat(41)],
  ])('refuses the name %j, saying what a valid one looks like', async (name) => {
    const tree = workspace();
    const before = tree.listChanges().length;
    await expect(consumerGenerator(tree, { name })).rejects.toThrow(
      `invalid tool consumer name "${name}": use kebab-case`,
    );
    expect(tree.listChanges()).toHaveLength(before);
  });

  it('refuses a bad tool name, owner or directory, a used folder and a taken project name', async () => {
    const tree = workspace();
    await expect(consumerGenerator(tree, { name: 'billing', tool: 'Get-Invoice' })).rejects.toThrow(
      'invalid tool name "Get-Invoice"',
    );
    await expect(consumerGenerator(tree, { name: 'billing', owner: "x'; drop" })).rejects.toThrow(
      `invalid owner "x'; drop"`,
    );
    await expect(
      consumerGenerator(tree, { name: 'billing', directory: 'libs/billing' }),
    ).rejects.toThrow(
      'invalid directory "libs/billing": a tool consumer is a deployable and lives under services/',
    );
    await expect(
      consumerGenerator(tree, { name: 'billing', directory: 'services/../libs/billing' }),
    ).rejects.toThrow('invalid directory');

    tree.write('services/tool-consumers/billing/notes.md', 'mine');
    await expect(consumerGenerator(tree, { name: 'billing' })).rejects.toThrow(
      'services/tool-consumers/billing already exists and is not empty',
    );
    addProjectConfiguration(tree, 'ledger', { root: 'libs/ledger' });
    await expect(consumerGenerator(tree, { name: 'ledger' })).rejects.toThrow(
      'an Nx project named "ledger" already exists (libs/ledger)',
    );
  });

  it('warns when the folder is outside the npm workspaces', async () => {
    const tree = workspace();
    tree.write(
      'package.json',
      JSON.stringify({
        name: 'ws',
        workspaces: ['libs/*', 'services/*', 'services/tool-consumers/*'],
      }),
    );
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    await consumerGenerator(tree, { name: 'billing', skipFormat: true });
    expect(warn).not.toHaveBeenCalled();
    await consumerGenerator(tree, {
      name: 'ledger',
      directory: 'services/finance/ledger',
      skipFormat: true,
    });
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('services/finance/ledger is not covered by the npm workspaces'),
    );
  });
});
