import { routesGuardedOrPublic } from './routes-guarded-or-public.mjs';

/**
 * The workspace's own ESLint rules, wired in eslint.config.mjs as the `toolbus` plugin and
 * tested in libs/testing/test/routes-guarded-or-public.spec.ts (RuleTester) and
 * libs/testing/test/boundaries.spec.ts (the workspace configuration). Plain ESM on purpose, and
 * not in tools/eslint-rules, which @nx/eslint-plugin claims and loads as TypeScript with a
 * tsconfig of its own.
 */
export default {
  meta: { name: 'toolbus' },
  rules: { 'routes-guarded-or-public': routesGuardedOrPublic },
};
