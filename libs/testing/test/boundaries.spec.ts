import { join } from 'node:path';
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
      'libs/persistence/src/boundary-probe.ts',
      "import { AppModule } from '@toolbus/model-shim';\nexport const x = AppModule;\n",
    );
    expect(found).toContain('@nx/enforce-module-boundaries: Imports of apps are forbidden');
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
