import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import toolbus from './tools/eslint-plugin/index.mjs';

// Tag constraints: services depend on libraries, libraries never on services, contracts on
// nothing but contracts, and only test code on the type:testing libraries (libs/testing,
// libs/testing-bus: the second block below).
const constraints = (allowTesting) => [
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: [
      'type:lib',
      'type:contracts',
      ...(allowTesting ? ['type:testing'] : []),
    ],
  },
  {
    sourceTag: 'type:lib',
    onlyDependOnLibsWithTags: [
      'type:lib',
      'type:contracts',
      ...(allowTesting ? ['type:testing'] : []),
    ],
  },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:testing'],
  },
  // Suites that test the platform as a whole (tests/*) start services as their users do.
  {
    sourceTag: 'type:suite',
    onlyDependOnLibsWithTags: ['type:service', 'type:lib', 'type:contracts', 'type:testing'],
  },
];

const boundaries = (allowTesting) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    banTransitiveDependencies: false,
    depConstraints: constraints(allowTesting),
  },
];

const testFiles = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.e2e-spec.ts',
  '**/test/**/*.ts',
  '**/test/**/*.mjs',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/reports/**', '**/.nx/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.js'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'kafkajs',
              message: 'Kafka sits behind @toolbus/messaging; import the MessageBus instead.',
            },
          ],
          patterns: [
            {
              group: ['@toolbus/*/src/*', '@toolbus/*/dist/*'],
              message: 'Import a library through its index only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: testFiles,
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },
  {
    // Every HTTP route is guarded or says why it is public; test code may stand up bare routes.
    files: ['**/*.ts'],
    ignores: testFiles,
    plugins: { toolbus },
    rules: { 'toolbus/routes-guarded-or-public': 'error' },
  },
  {
    // The one place allowed to talk to kafkajs directly.
    files: [
      'libs/messaging/src/kafka/**/*.ts',
      'libs/messaging/test/**',
      'libs/messaging/bench/**',
    ],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Test configuration files share one factory from tools/, which is not a project.
    files: ['**/vitest*.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
);
