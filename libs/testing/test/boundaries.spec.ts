import { join } from 'node:path';
import { createProjectGraphAsync, type ProjectGraph } from '@nx/devkit';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

/**
 * The workspace's module boundaries, proven by linting code that breaks them: the rules live in
 * eslint.config.mjs and the tags in each project.json.
 */
describe('module boundaries', () => {
  const eslint = new ESLint({ cwd: root });

  async function problems(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: join(root, file) });
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  }

  it('forbids a library from depending on a service', async () => {
    const found = await problems(
      // registry-client: a library the model shim does not depend on, so this is no cycle.
      'libs/registry-client/src/boundary-probe.ts',
      "import { modelShimService } from '@toolbus/model-shim';\nexport const x = modelShimService;\n",
    );
    // Services are Nx libraries (the embedded platform and the suites compose them); the tags
    // keep every other library away from them.
    expect(
      found.some(
        (p) =>
          p.startsWith('@nx/enforce-module-boundaries') &&
          p.includes('type:lib') &&
          !p.includes('type:service'),
      ),
      found.join('\n'),
    ).toBe(true);
  });

  it('forbids a service from depending on another service (only the platform composes them)', async () => {
    const found = await problems(
      'services/tool-consumers/crm/src/boundary-probe.ts',
      "import { registryService } from '@toolbus/registry';\nexport const x = registryService;\n",
    );
    expect(
      found.some(
        (p) =>
          p.startsWith('@nx/enforce-module-boundaries') &&
          p.includes('A project tagged with "type:service" can only depend on libs tagged with'),
      ),
      found.join('\n'),
    ).toBe(true);
  });

  it('forbids contracts from depending on anything but contracts', async () => {
    const found = await problems(
      'libs/contracts/src/boundary-probe.ts',
      "import { createLogger } from '@toolbus/observability';\nexport const x = createLogger;\n",
    );
    expect(
      found.some(
        (p) => p.startsWith('@nx/enforce-module-boundaries') && p.includes('type:contracts'),
      ),
    ).toBe(true);
  });

  it('lets only test files use libs/testing', async () => {
    const code = "import { waitFor } from '@toolbus/testing';\nexport const x = waitFor;\n";
    expect(
      (await problems('libs/messaging/src/boundary-probe.ts', code)).some((p) =>
        p.startsWith('@nx/enforce-module-boundaries'),
      ),
    ).toBe(true);
    expect(
      (await problems('libs/messaging/src/boundary-probe.spec.ts', code)).filter((p) =>
        p.startsWith('@nx/enforce-module-boundaries'),
      ),
    ).toEqual([]);
  });

  it('lets only test files use libs/testing-bus', async () => {
    const code =
      "import { startToolCaller } from '@toolbus/testing-bus';\nexport const x = startToolCaller;\n";
    expect(await problems('libs/tool-sdk/src/boundary-probe.ts', code)).toContain(
      '@nx/enforce-module-boundaries: A project tagged with "type:lib" can only depend on libs tagged with "type:lib", "type:contracts"',
    );
    expect(
      (await problems('libs/tool-sdk/test/boundary-probe.int-spec.ts', code)).filter((p) =>
        p.startsWith('@nx/enforce-module-boundaries'),
      ),
    ).toEqual([]);
  });

  it('refuses the imports that would bring back the testing <-> messaging cycle', async () => {
    // The harness core calling the bus, or messaging's tests using the bus harness.
    expect(
      await problems(
        'libs/testing/src/boundary-probe.ts',
        "import { createMemoryBus } from '@toolbus/messaging';\nexport const x = createMemoryBus;\n",
      ),
    ).toContainEqual(
      expect.stringContaining(
        '@nx/enforce-module-boundaries: Circular dependency between "testing" and "messaging"',
      ),
    );
    expect(
      await problems(
        'libs/messaging/test/boundary-probe.int-spec.ts',
        "import { startToolCaller } from '@toolbus/testing-bus';\nexport const x = startToolCaller;\n",
      ),
    ).toContainEqual(
      expect.stringContaining(
        '@nx/enforce-module-boundaries: Circular dependency between "messaging" and "testing-bus"',
      ),
    );
  });

  it('fails a service controller whose route is neither guarded nor public', async () => {
    const controller = [
      "import { Controller, Get } from '@nestjs/common';",
      '',
      "@Controller('probe')",
      'export class ProbeController {',
      '  @Get()',
      '  list(): string[] {',
      '    return [];',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(await problems('services/registry/src/probe/probe.controller.ts', controller)).toEqual([
      "toolbus/routes-guarded-or-public: Route ProbeController.list (@Get) is neither guarded nor public: add @UseGuards(AuthGuard) to it or its controller, or mark it @Public('<why it needs no token>').",
    ]);
    // Test code may stand up bare routes.
    expect(await problems('services/registry/test/probe.int-spec.ts', controller)).toEqual([]);
  });

  it('keeps kafkajs behind the messaging library', async () => {
    const found = await problems(
      'services/model-shim/src/boundary-probe.ts',
      "import kafkajs from 'kafkajs';\nexport const x = kafkajs;\n",
    );
    expect(found).toContain(
      "no-restricted-imports: 'kafkajs' import is restricted from being used. Kafka sits behind @toolbus/messaging; import the MessageBus instead.",
    );
  });

  it('forbids reaching into another library past its index', async () => {
    const found = await problems(
      'services/model-shim/src/boundary-probe.ts',
      "import { Dispatcher } from '@toolbus/messaging/src/core/dispatcher.js';\nexport const x = Dispatcher;\n",
    );
    expect(
      found.some(
        (p) =>
          p.includes('Import a library through its index only') ||
          p.startsWith('@nx/enforce-module-boundaries'),
      ),
    ).toBe(true);
  });
});

/** Cycles in the project graph Nx builds (the one `nx graph` prints), as paths of project names. */
function cyclesOf(graph: ProjectGraph): string[][] {
  const done = new Set<string>();
  const cycles: string[][] = [];
  const visit = (project: string, path: string[]): void => {
    const at = path.indexOf(project);
    if (at >= 0) {
      cycles.push([...path.slice(at), project]);
      return;
    }
    if (done.has(project)) return;
    for (const dep of graph.dependencies[project] ?? []) {
      if (graph.nodes[dep.target]) visit(dep.target, [...path, project]);
    }
    done.add(project);
  };
  for (const project of Object.keys(graph.nodes)) visit(project, []);
  return cycles;
}

describe('project graph', () => {
  it('has no cycle, and the harness core depends on no project but contracts', async () => {
    const graph = await createProjectGraphAsync({ exitOnError: false });
    expect(cyclesOf(graph)).toEqual([]);
    // Contracts may depend only on contracts (even in its tests), so it can never close a cycle.
    const ours = (graph.dependencies['testing'] ?? [])
      .map((d) => d.target)
      .filter((t) => graph.nodes[t]);
    expect(ours).toEqual(['contracts']);
    // The check itself finds a cycle when there is one: contracts' tests using the harness.
    const closed = { source: 'contracts', target: 'testing', type: 'static' };
    const withCycle = { ...graph, dependencies: { ...graph.dependencies, contracts: [closed] } };
    expect(cyclesOf(withCycle)).toEqual([expect.arrayContaining(['contracts', 'testing'])]);
  }, 30_000);
});
