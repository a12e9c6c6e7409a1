import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/** The test tiers; each has its own file pattern, timeouts and report file. */
export type TestTier = 'unit' | 'integration' | 'e2e';

const include: Record<TestTier, string[]> = {
  unit: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
  integration: ['src/**/*.int-spec.ts', 'test/**/*.int-spec.ts'],
  e2e: ['src/**/*.e2e-spec.ts', 'test/**/*.e2e-spec.ts'],
};

/**
 * One vitest configuration for every project and tier, so timeouts, the source condition and
 * the JSON report that `scripts/test-summary.mjs` adds up stay the same everywhere.
 * Infrastructure tiers run their files one at a time: they share one Kafka, one PostgreSQL and
 * one Redis on a 2-core machine.
 */
export function projectConfig(projectDir: string, tier: TestTier): ReturnType<typeof defineConfig> {
  let root = projectDir;
  while (!existsSync(join(root, 'nx.json')) && dirname(root) !== root) root = dirname(root);
  const name = basename(projectDir);
  const serial = tier !== 'unit';
  return defineConfig({
    root: projectDir,
    // Decorator metadata (NestJS dependency injection) needs swc; esbuild cannot emit it.
    plugins: [
      swc.vite({
        jsc: {
          target: 'es2023',
          parser: { syntax: 'typescript', decorators: true },
          transform: {
            legacyDecorator: true,
            decoratorMetadata: true,
            useDefineForClassFields: false,
          },
          keepClassNames: true,
        },
        module: { type: 'es6' },
      }),
    ],
    resolve: { conditions: ['@toolbus/source', 'node', 'development|production'] },
    ssr: { resolve: { conditions: ['@toolbus/source', 'node', 'development|production'] } },
    test: {
      include: include[tier],
      environment: 'node',
      testTimeout: serial ? 120_000 : 10_000,
      hookTimeout: serial ? 120_000 : 10_000,
      fileParallelism: !serial,
      pool: 'forks',
      env: { TZ: 'UTC' },
      reporters: ['default', 'json'],
      outputFile: { json: join(root, 'reports', 'tests', `${name}.${tier}.json`) },
    },
  });
}
