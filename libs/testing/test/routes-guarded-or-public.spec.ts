import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuleTester, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';

const pluginFile = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'tools',
  'eslint-plugin',
  'index.mjs',
);
const plugin = (await import(pathToFileURL(pluginFile).href)) as {
  default: { rules: Record<string, Rule.RuleModule> };
};
const rule = plugin.default.rules['routes-guarded-or-public']!;

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({
  languageOptions: {
    parser: tseslint.parser,
    parserOptions: { experimentalDecorators: true },
  },
});

const imports = "import { Controller, Get, Post, UseGuards } from '@nestjs/common';\n";

/** The workspace rule `toolbus/routes-guarded-or-public` (tools/eslint-plugin). */
tester.run('routes-guarded-or-public', rule, {
  valid: [
    {
      name: 'a controller guarded at class level',
      code: `${imports}
        @Controller('tools') @UseGuards(AuthGuard)
        export class ToolsController { @Get() list() {} @Post() create() {} }`,
    },
    {
      name: 'a route guarded at method level',
      code: `${imports}
        @Controller('tools')
        export class ToolsController { @Get() @UseGuards(AuthGuard) list() {} }`,
    },
    {
      name: 'a public route with its reason',
      code: `${imports}
        @Controller()
        export class HealthController { @Public('health probes: the kubelet has no token') @Get('health/live') live() {} }`,
    },
    {
      name: 'a public controller with its reason, in a template literal',
      code: `${imports}
        @Controller() @Public(\`the OpenAPI document, fetched before a token exists\`)
        export class ApiDocsController { @Get('openapi.json') get() {} }`,
    },
    {
      name: 'methods without a route decorator, and classes that are not controllers',
      code: `${imports}
        @Controller()
        export class OrdersController { @OnRequest('orders') handle() {} helper() {} }
        export class NotAController { @Get() list() {} }`,
    },
  ],
  invalid: [
    {
      name: 'a route with no marker at all',
      code: `${imports}
        @Controller('tools')
        export class ToolsController { @UseGuards(AuthGuard) @Get() list() {} @Post() create() {} }`,
      errors: [
        {
          messageId: 'unguarded',
          data: { route: 'ToolsController.create (@Post)' },
        },
      ],
    },
    {
      name: 'every route decorator counts, qualified ones included',
      code: `${imports}
        @Controller()
        export class C { @Put() a() {} @Patch() b() {} @Delete() c() {} @All() d() {} @Head() e() {} @Options() f() {} @common.Get() g() {} }`,
      errors: [
        'a (@Put)',
        'b (@Patch)',
        'c (@Delete)',
        'd (@All)',
        'e (@Head)',
        'f (@Options)',
        'g (@Get)',
      ].map((route) => ({ messageId: 'unguarded', data: { route: `C.${route}` } })),
    },
    {
      name: 'an empty @UseGuards() guards nothing',
      code: `${imports}
        @Controller() @UseGuards()
        export class C { @Get() list() {} }`,
      errors: [{ messageId: 'unguarded', data: { route: 'C.list (@Get)' } }],
    },
    {
      name: 'public without a reason, on a method and on a class',
      code: `${imports}
        @Controller()
        export class HealthController { @Public() @Get('health/live') live() {} @Public('  ') @Get('health/ready') ready() {} }
        @Controller() @Public(REASON)
        export class DocsController { @Get() get() {} }`,
      errors: [
        { messageId: 'noReason', data: { target: 'HealthController.live' } },
        { messageId: 'noReason', data: { target: 'HealthController.ready' } },
        { messageId: 'noReason', data: { target: 'DocsController' } },
      ],
    },
  ],
});
