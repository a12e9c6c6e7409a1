import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diff, record } from '../test/records.js';
import { DEFAULT_REGISTRY_URL, ExitCode, runCli, type CliIo } from './program.js';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Route = (call: Call) => Response | Promise<Response>;

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.secret-token-value.sig';

const ok = (body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status: 200, headers });
const problem = (status: number, detail: string, extra: Record<string, unknown> = {}) =>
  new Response(
    JSON.stringify({
      type: 'https://toolbus.dev/problems/x',
      title: 'T',
      status,
      detail,
      ...extra,
    }),
    { status, headers: { 'content-type': 'application/problem+json' } },
  );

/** The CLI with captured output and a fake fetch that answers with `route`. */
async function cli(
  args: string[],
  options: {
    route?: Route;
    env?: Record<string, string>;
    tty?: boolean;
    columns?: number;
    stdin?: string;
    cwd?: string;
  } = {},
) {
  const calls: Call[] = [];
  const stdout = { text: '', isTTY: options.tty, columns: options.columns };
  const stderr = { text: '', isTTY: options.tty, columns: options.columns };
  const fetchFake = (async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    };
    calls.push(call);
    if (!options.route) throw new Error(`unexpected request ${call.method} ${call.url}`);
    // Like the real fetch: the request's signal (the CLI's --timeout-ms) ends a slow answer.
    const signal = init?.signal;
    if (!signal) return options.route(call);
    signal.throwIfAborted();
    let onAbort = () => undefined as void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([options.route(call), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }) as typeof fetch;
  const io: CliIo = {
    stdout: { ...stdout, write: (s: string) => (stdout.text += s) },
    stderr: { ...stderr, write: (s: string) => (stderr.text += s) },
    env: { TOOLBUS_TOKEN: TOKEN, ...options.env },
    fetch: fetchFake,
    cwd: options.cwd,
    stdin:
      options.stdin === undefined
        ? undefined
        : (async function* () {
            yield Buffer.from(options.stdin!);
          })(),
  };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text, calls };
}

describe('tools list', () => {
  const page = { items: [record(), record({ name: 'list_customers' })], nextCursor: 'NEXT' };

  it('prints a table on stdout and the next-page hint on stderr', async () => {
    const r = await cli(
      ['tools', 'list', '--status', 'draft,approved', '--tag', 'a', '--tag', 'b'],
      {
        route: () => ok(page),
      },
    );
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout.split('\n')[0]).toBe(
      'NAME            VERSION  STATUS    OWNER     REGION  SCOPES        TITLE',
    );
    expect(r.stdout).toContain(
      'list_customers  1.0.0    approved  team-crm  eu      crm:crm_read  Get a customer',
    );
    expect(r.stderr).toBe('next page: --cursor NEXT\n');
    const url = new URL(r.calls[0]!.url);
    expect(url.origin).toBe(DEFAULT_REGISTRY_URL);
    expect(url.searchParams.get('status')).toBe('draft,approved');
    expect(url.searchParams.getAll('tag')).toEqual(['a', 'b']);
  });

  it('with --json prints exactly the API JSON and nothing else on stdout', async () => {
    const body = { ...page, items: [{ ...page.items[0], laterField: true }] };
    const r = await cli(['tools', 'list', '--json'], { route: () => ok(body) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(body)));
    expect(r.stderr).toBe('');
  });

  it('with --all follows nextCursor to the end and prints one table (or one JSON page)', async () => {
    const pages: Record<string, unknown> = {
      '': { items: [record({ name: 'a_tool' })], nextCursor: 'c2' },
      c2: { items: [record({ name: 'b_tool' })], nextCursor: 'c3' },
      c3: { items: [record({ name: 'c_tool' })], nextCursor: null },
    };
    const route: Route = (call) => ok(pages[new URL(call.url).searchParams.get('cursor') ?? '']);
    const table = await cli(['tools', 'list', '--all', '--limit', '1'], { route });
    expect(table.code).toBe(0);
    expect(table.calls).toHaveLength(3);
    expect(table.calls.every((c) => new URL(c.url).searchParams.get('limit') === '1')).toBe(true);
    expect(
      table.stdout
        .split('\n')
        .slice(1, 4)
        .map((l) => l.split(' ')[0]),
    ).toEqual(['a_tool', 'b_tool', 'c_tool']);
    expect(table.stderr).toBe('');
    const json = await cli(['tools', 'list', '--all', '--json'], { route });
    expect(JSON.parse(json.stdout)).toMatchObject({
      items: [{ name: 'a_tool' }, { name: 'b_tool' }, { name: 'c_tool' }],
      nextCursor: null,
    });
  });

  it('cuts titles to the terminal width when stdout is a terminal', async () => {
    const long = record({ title: `Get a customer ${'with many words '.repeat(8)}` });
    const r = await cli(['tools', 'list'], {
      route: () => ok({ items: [long], nextCursor: null }),
      tty: true,
      columns: 90,
    });
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(90);
    expect(r.stdout).toContain('…');
  });

  it('says when nothing matches, on stderr', async () => {
    const r = await cli(['tools', 'list', '--q', 'nothing'], {
      route: () => ok({ items: [], nextCursor: null }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('no tools match\n');
  });
});

describe('global options', () => {
  const route: Route = () => ok({ items: [], nextCursor: null });

  it('take the registry from --registry before or after the command, then the environment', async () => {
    const before = await cli(['--registry', 'http://reg.example:9000', 'tools', 'list'], { route });
    const after = await cli(['tools', 'list', '--registry', 'http://reg.example:9001/'], { route });
    const fromEnv = await cli(['tools', 'list'], {
      route,
      env: { TOOLBUS_REGISTRY_URL: 'https://reg.example/base' },
    });
    expect(before.calls[0]!.url).toBe('http://reg.example:9000/v1/tools');
    expect(after.calls[0]!.url).toBe('http://reg.example:9001/v1/tools');
    expect(fromEnv.calls[0]!.url).toBe('https://reg.example/base/v1/tools');
  });

  it('send --token over TOOLBUS_TOKEN as a bearer token, and never print it', async () => {
    const r = await cli(['tools', 'list', '--token', 'cli-token'], {
      route: () => problem(403, 'needs registry:read'),
    });
    expect(r.calls[0]!.headers['authorization']).toBe('Bearer cli-token');
    const leaky = await cli(['tools', 'list', '--json'], {
      route: () => problem(401, 'token expired'),
    });
    for (const run of [r, leaky]) {
      expect(run.stdout + run.stderr).not.toContain('cli-token');
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
    }
  });

  it('refuse a token a header cannot carry, without quoting it', async () => {
    const r = await cli(['tools', 'list'], { env: { TOOLBUS_TOKEN: 'abc def-secret' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the token holds spaces or characters a bearer token cannot');
    expect(r.stderr).not.toContain('def-secret');
    expect(r.calls).toEqual([]);
    const trimmed = await cli(['tools', 'list'], {
      env: { TOOLBUS_TOKEN: ' tok-1\n' },
      route: () => ok({ items: [], nextCursor: null }),
    });
    expect(trimmed.calls[0]!.headers['authorization']).toBe('Bearer tok-1');
  });

  it('print help and the version with exit 0', async () => {
    const help = await cli(['tools', 'import-openapi', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--source <name>');
    expect(help.stdout).toContain('Global options:');
    expect(help.stdout).toMatch(/--tool-timeout-ms <n> +each imported tool's timeout in ms/);
    expect(help.stdout).toMatch(/--timeout-ms <n> +how long to wait for the registry/);
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('usage errors (exit 2, nothing sent)', () => {
  it.each([
    [['tools', 'get', 'Get-Customer'], '"Get-Customer" is not a tool version: the name must start'],
    [['tools', 'get', 'get_customer@1.0'], 'the version must be a semantic version such as 1.2.0'],
    [
      ['tools', 'approve', 'get_customer'],
      '"get_customer" is not a tool version: the version is missing; expected <name>@<version>',
    ],
    [['tools', 'deprecate', 'get_customer@'], 'the version must be a semantic version'],
    [['tools', 'versions', 'x y'], '"x y" is not a tool name'],
    [
      ['tools', 'list', '--status', 'live'],
      '"live" is not a status; use draft, approved, deprecated, retired',
    ],
    [
      ['tools', 'list', '--limit', 'ten'],
      "option '--limit <n>' argument 'ten' is invalid. must be a whole number",
    ],
    [['tools', 'list', '--region', 'Europe'], 'must be a region code such as eu'],
    [['tools', 'lst'], "unknown command 'lst'"],
    [['tools', 'list', '--registry', 'reg.example'], 'registry URL "reg.example" is not a URL'],
    [
      ['tools', 'import-openapi', 'crm.yaml', '--owner', 'o', '--region', 'eu'],
      "required option '--source <name>' not specified",
    ],
    [['tools', 'approve', 'get_customer@1.0.0', '--reason', ' '], '--reason must not be empty'],
    [['tools'], 'Usage: toolbus tools'],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
    expect(r.calls).toEqual([]);
  });

  it('refuses a bad TOOLBUS_TIMEOUT_MS by name', async () => {
    const r = await cli(['tools', 'list'], { env: { TOOLBUS_TIMEOUT_MS: 'soon' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TOOLBUS_TIMEOUT_MS "soon" must be a whole number of milliseconds');
  });
});

describe('registry refusals (exit 1)', () => {
  it('print the detail and each issue by pointer on stderr', async () => {
    const r = await cli(['tools', 'list', '--owner', 'x'], {
      route: () =>
        problem(422, 'invalid query', {
          issues: [
            { pointer: '/owner', message: 'unknown team' },
            { pointer: '/limit', message: 'too big' },
          ],
        }),
    });
    expect(r.code).toBe(ExitCode.refused);
    expect(r.stderr).toBe('error: invalid query\n  /owner: unknown team\n  /limit: too big\n');
    expect(r.stdout).toBe('');
  });

  it('with --json also print the problem JSON on stdout', async () => {
    const r = await cli(['tools', 'approve', 'get_customer@1.0.0', '--json'], {
      route: () => problem(403, 'four eyes: alice wrote get_customer@1.0.0 and cannot approve it'),
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 403,
      detail: expect.stringContaining('four eyes'),
    });
    expect(r.stderr).toContain('error: four eyes: alice wrote get_customer@1.0.0');
  });

  it('hint at the token when the registry wants one and none was sent', async () => {
    const r = await cli(['tools', 'list'], {
      route: () => problem(401, 'send a bearer token'),
      env: { TOOLBUS_TOKEN: '' },
    });
    expect(r.code).toBe(1);
    expect(r.calls[0]!.headers['authorization']).toBeUndefined();
    expect(r.stderr).toContain('hint: no token was sent; set TOOLBUS_TOKEN or pass --token');
  });

  it('refuse an answer that breaks the contract', async () => {
    const r = await cli(['tools', 'get', 'get_customer'], { route: () => ok({ name: 'x' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: the answer to GET /v1/tools/get_customer does not match the registry API contract',
    );
    expect(r.stderr).toContain('  /version: ');
  });
});

describe('an unreachable registry (exit 3)', () => {
  it('names the URL and how to point the CLI elsewhere', async () => {
    const r = await cli(['tools', 'list', '--json'], {
      route: () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
      env: { TOOLBUS_REGISTRY_URL: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(ExitCode.unreachable);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('cannot reach the registry at http://127.0.0.1:9: ECONNREFUSED');
    expect(r.stderr).toContain('--registry <url> or TOOLBUS_REGISTRY_URL');
  });
});

describe('tools get, versions and lifecycle', () => {
  it('prints a deprecated version with the Warning header on stderr', async () => {
    const deprecated = record({ status: 'deprecated', statusReason: 'use 2.0.0' });
    const route = () =>
      ok(deprecated, {
        warning: '299 toolbus-registry "get_customer@1.0.0 is deprecated: use 2.0.0"',
      });
    const r = await cli(['tools', 'get', 'get_customer'], { route });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning: get_customer@1.0.0 is deprecated: use 2.0.0\n');
    expect(r.stdout).toContain('status:      deprecated (use 2.0.0)');
    expect(r.stdout).toContain('input schema:\n  type: object');
    const json = await cli(['tools', 'get', 'get_customer@1.0.0', '--json'], { route });
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(deprecated)));
    expect(json.stderr).toContain('warning: ');
    expect(json.calls[0]!.url).toBe(`${DEFAULT_REGISTRY_URL}/v1/tools/get_customer/versions/1.0.0`);
  });

  it('lists versions as a table', async () => {
    const r = await cli(['tools', 'versions', 'get_customer'], {
      route: () =>
        ok({ items: [record({ version: '1.1.0', status: 'draft', approvedBy: null }), record()] }),
    });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'VERSION  STATUS    AUTHOR  APPROVED BY  CREATED     REASON',
      '1.1.0    draft     alice   -            2026-11-20',
      '1.0.0    approved  alice   bob          2026-11-20',
    ]);
  });

  it.each([
    ['approve', record()],
    ['deprecate', record({ status: 'deprecated', statusReason: 'replaced by 2.0.0' })],
    ['retire', record({ status: 'retired', statusReason: 'replaced by 2.0.0' })],
  ] as const)(
    '%s posts the action with the reason and prints the new status',
    async (action, answer) => {
      const r = await cli(
        ['tools', action, 'get_customer@1.0.0', '--reason', 'replaced by 2.0.0'],
        {
          route: () => ok(answer),
        },
      );
      expect(r.code).toBe(0);
      expect(r.calls[0]).toMatchObject({
        method: 'POST',
        url: `${DEFAULT_REGISTRY_URL}/v1/tools/get_customer/versions/1.0.0/${action}`,
        body: { reason: 'replaced by 2.0.0' },
      });
      expect(r.stdout).toMatch(/^get_customer@1\.0\.0 is now (approved by bob|deprecated|retired)/);
    },
  );
});

describe('tools import-openapi', () => {
  let dir: string;
  const yaml = `openapi: 3.0.3\ninfo:\n  title: CRM\n  version: "1"\npaths: {}\n${'# padding\n'.repeat(200)}`;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolbus-cli-'));
    await writeFile(join(dir, 'crm.yaml'), yaml);
    await writeFile(join(dir, 'empty.yaml'), '\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const args = ['--source', 'crm', '--owner', 'team-crm', '--region', 'eu'];

  it('posts the file as text, prints the diff table and the summary', async () => {
    const r = await cli(
      [
        'tools',
        'import-openapi',
        'crm.yaml',
        ...args,
        '--tag',
        'crm',
        '--tool-timeout-ms',
        '5000',
        '--name-prefix',
        'crm_',
      ],
      { route: () => ok(diff()), cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.calls[0]).toMatchObject({
      method: 'POST',
      url: `${DEFAULT_REGISTRY_URL}/v1/imports/openapi`,
      body: {
        source: 'crm',
        owner: 'team-crm',
        region: 'eu',
        document: yaml,
        tags: ['crm'],
        timeoutMs: 5000,
        namePrefix: 'crm_',
        dryRun: false,
      },
    });
    expect(r.stdout).toContain(
      'CHANGE   NAME             VERSION  OPERATION\nadded    list_customers',
    );
    expect(r.stdout).toContain(
      '3 added, 1 changed, 1 removed, 5 unchanged (drafts await approval: toolbus tools approve <name>@<version>)\n',
    );
    expect(r.stderr).toBe('');
  });

  it('takes --timeout-ms before or after the command as how long to wait, never as a field', async () => {
    const never: Route = () => new Promise<Response>(() => undefined);
    for (const argv of [
      ['tools', 'import-openapi', 'crm.yaml', ...args, '--timeout-ms', '50'],
      ['--timeout-ms', '50', 'tools', 'import-openapi', 'crm.yaml', ...args],
    ]) {
      const r = await cli(argv, { route: never, cwd: dir });
      expect(r.code).toBe(ExitCode.unreachable);
      expect(r.stderr).toContain('no answer within 50 ms (raise it with --timeout-ms)');
      expect(r.calls).toHaveLength(1);
      expect(r.calls[0]!.body).not.toHaveProperty('timeoutMs');
    }
    const both = await cli(
      [
        'tools',
        'import-openapi',
        'crm.yaml',
        ...args,
        '--tool-timeout-ms',
        '5000',
        '--timeout-ms',
        '50',
      ],
      { route: never, cwd: dir },
    );
    expect(both.code).toBe(ExitCode.unreachable);
    expect(both.stderr).toContain('no answer within 50 ms');
    expect(both.calls[0]!.body).toMatchObject({ timeoutMs: 5000 });
  });

  it("names --tool-timeout-ms when the imported tools' timeout is out of range", async () => {
    const r = await cli(
      ['tools', 'import-openapi', 'crm.yaml', ...args, '--tool-timeout-ms', '600001'],
      { cwd: dir },
    );
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain('  --tool-timeout-ms: ');
    expect(r.calls).toEqual([]);
  });

  it('shows progress on stderr only when stderr is a terminal, and clears it', async () => {
    const r = await cli(['tools', 'import-openapi', 'crm.yaml', ...args, '--dry-run'], {
      route: () => ok(diff({ dryRun: true })),
      cwd: dir,
      tty: true,
    });
    expect(r.stderr).toContain('importing crm.yaml (2.1 kB)…');
    expect(r.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(r.calls[0]!.body).toMatchObject({ dryRun: true });
    expect(r.stdout).toContain('dry run, nothing written: 3 added');
  });

  it('reads the document from standard input with -', async () => {
    const r = await cli(['tools', 'import-openapi', '-', ...args, '--json'], {
      route: () => ok(diff()),
      stdin: '{"openapi":"3.1.0"}',
    });
    expect(r.code).toBe(0);
    expect(r.calls[0]!.body).toMatchObject({ document: '{"openapi":"3.1.0"}' });
    expect(JSON.parse(r.stdout)).toEqual(diff());
  });

  it('refuses a missing or empty file and bad options before sending anything', async () => {
    const missing = await cli(['tools', 'import-openapi', 'nope.yaml', ...args], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: cannot read nope.yaml: no such file');
    const empty = await cli(['tools', 'import-openapi', 'empty.yaml', ...args], { cwd: dir });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('empty.yaml is empty');
    const bad = await cli(
      [
        'tools',
        'import-openapi',
        'crm.yaml',
        '--source',
        'CRM',
        '--owner',
        'o',
        '--region',
        'eu',
        '--base-url',
        'ftp://x',
      ],
      { cwd: dir },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '  --source: must be lower-case letters, digits and -, starting with a letter',
    );
    expect(bad.stderr).toContain('  --base-url: ');
    expect([missing, empty, bad].flatMap((r) => r.calls)).toEqual([]);
  });

  it('shows where a refused document is broken', async () => {
    const r = await cli(['tools', 'import-openapi', 'crm.yaml', ...args], {
      cwd: dir,
      route: () =>
        problem(422, 'The OpenAPI document cannot be imported', {
          issues: [{ pointer: '/document/paths', message: 'required property "paths" is missing' }],
        }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('  /document/paths: required property "paths" is missing');
  });
});
