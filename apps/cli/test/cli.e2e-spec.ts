import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportDiff, RegistryPaths, ToolPage, ToolVersionRecord } from '@toolbus/contracts';
import {
  freePort,
  infraFromEnv,
  issueToken,
  startServiceProcess,
  TEST_JWT_SECRET,
  uniqueName,
  type ServiceProcess,
} from '@toolbus/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_MAIN, ROOT, runCli, type CliRun } from './support.js';

const FIXTURES = join(ROOT, 'services', 'registry', 'test', 'fixtures', 'openapi');

/** The CRM document if it is there, else whichever OpenAPI fixture exists. */
function pickFixture(): string {
  const files = readdirSync(FIXTURES)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  const file =
    files.find((f) => f === 'crm-api.yaml') ?? files.find((f) => f.startsWith('crm')) ?? files[0];
  if (!file) throw new Error(`no OpenAPI fixture in ${FIXTURES}`);
  return join(FIXTURES, file);
}

/** A broken document the registry refuses with a pointer into it (not just "/"). */
function pickBrokenCase(): { file: string; pointer: string; message: string } {
  const { cases } = JSON.parse(readFileSync(join(FIXTURES, 'invalid', 'cases.json'), 'utf8')) as {
    cases: Array<{ file: string; pointer: string; message: string }>;
  };
  const found = cases.find(
    (c) => c.pointer !== '/' && existsSync(join(FIXTURES, 'invalid', c.file)),
  );
  if (!found) throw new Error('no broken OpenAPI fixture with a pointer');
  return { ...found, file: join(FIXTURES, 'invalid', found.file) };
}

/** The built CLI against the real registry process on the real PostgreSQL and Kafka. */
describe('toolbus CLI against the registry', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('cli_e2e').replace(/-/g, '_');
  const fixture = pickFixture();
  // Imported tools need the scopes the document declares; "crm" is the import's scope area.
  const toolScopes = ['crm:*', 'customers:*'];
  let registry: ServiceProcess;
  let importer: string;
  let approver: string;
  let imported: ImportDiff;
  let ref: string;
  let name: string;

  const as = (token: string, args: string[], stdin?: string): Promise<CliRun> =>
    runCli(args, { TOOLBUS_REGISTRY_URL: registry.url, TOOLBUS_TOKEN: token }, { stdin });

  beforeAll(async () => {
    registry = await startServiceProcess(REGISTRY_MAIN, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_ALLOW_SHARED_KEY: 'true',
      LOG_LEVEL: 'warn',
    });
    await registry.ready(); // afterAll stops it should it never get ready
    importer = await issueToken({
      sub: 'alice',
      scopes: ['registry:read', 'registry:write', 'registry:approve', ...toolScopes],
      teams: ['team-crm'],
    });
    approver = await issueToken({
      sub: 'bob',
      scopes: ['registry:read', 'registry:approve', ...toolScopes],
    });
  });

  afterAll(async () => {
    await registry?.stop();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  it('imports an OpenAPI document and prints the diff with a summary', async () => {
    // --tool-timeout-ms is the tools' timeoutMs; --timeout-ms after the command is how long
    // the CLI waits, as anywhere else.
    const timeouts = ['--tool-timeout-ms', '5000', '--timeout-ms', '120000'];
    const r = await as(importer, [
      'tools',
      'import-openapi',
      fixture,
      '--source',
      'crm',
      '--owner',
      'team-crm',
      '--region',
      'eu',
      '--tag',
      'e2e',
      ...timeouts,
    ]);
    expect(r.stderr).toBe(''); // no progress line: stderr is a pipe here
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CHANGE +NAME +VERSION +OPERATION$/);
    expect(lines[1]).toMatch(/^added +[a-z][a-z0-9_]* +\d+\.\d+\.\d+ +[A-Z]+ \//);
    expect(lines.at(-1)).toMatch(
      /^\d+ added, 0 changed, 0 removed, 0 unchanged \(drafts await approval: toolbus tools approve <name>@<version>\)$/,
    );

    // The same document again, as a script would: nothing changes, and --json is the diff.
    const again = await as(
      importer,
      [
        'tools',
        'import-openapi',
        '-',
        '--source',
        'crm',
        '--owner',
        'team-crm',
        '--region',
        'eu',
        '--tag',
        'e2e',
        ...timeouts,
        '--dry-run',
        '--json',
      ],
      readFileSync(fixture, 'utf8'),
    );
    expect(again.code).toBe(0);
    const dry = ImportDiff.parse(JSON.parse(again.stdout));
    expect(dry).toMatchObject({ source: 'crm', dryRun: true, added: [], changed: [], removed: [] });
    expect(dry.unchanged.length).toBe(lines.length - 2);
    imported = dry;
    const first = lines[1]!.split(/ +/);
    name = first[1]!;
    ref = `${first[1]}@${first[2]}`;
  });

  it('lists the drafts, as a table and as the JSON the API answered', async () => {
    const table = await as(importer, ['tools', 'list', '--status', 'draft', '--all']);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME +VERSION +STATUS +OWNER +REGION +SCOPES +TITLE$/);
    const listed = rows.slice(1).map((row) => row.split(/ +/));
    expect(listed.map((c) => c[0]).sort()).toEqual(imported.unchanged.map((t) => t.name).sort());
    expect(new Set(listed.map((c) => `${c[2]} ${c[3]} ${c[4]}`))).toEqual(
      new Set(['draft team-crm eu']),
    );

    const json = await as(importer, [
      'tools',
      'list',
      '--status',
      'draft',
      '--limit',
      '100',
      '--json',
    ]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const page = ToolPage.parse(JSON.parse(json.stdout));
    expect(page.items.map((t) => t.name).sort()).toEqual(listed.map((c) => c[0]).sort());
    const direct = await fetch(`${registry.url}${RegistryPaths.tools}?status=draft&limit=100`, {
      headers: { authorization: `Bearer ${importer}` },
    });
    expect(JSON.parse(json.stdout)).toEqual(await direct.json());
  });

  it('refuses the importer approving their own draft: four eyes (exit 1)', async () => {
    const r = await as(importer, ['tools', 'approve', ref]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: four eyes: alice wrote .* and cannot approve it/);

    const json = await as(importer, ['tools', 'approve', ref, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 403,
      detail: expect.stringMatching(/four eyes/),
    });
  });

  it('approves as another user, then gets the tool', async () => {
    const approved = await as(approver, ['tools', 'approve', ref, '--reason', 'reviewed in e2e']);
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toBe(`${ref} is now approved by bob: reviewed in e2e\n`);

    const got = await as(approver, ['tools', 'get', name]);
    expect(got.code).toBe(0);
    expect(got.stderr).toBe('');
    expect(got.stdout).toMatch(new RegExp(`^name: +${name}$`, 'm'));
    expect(got.stdout).toMatch(/^status: +approved \(reviewed in e2e\)$/m);
    expect(got.stdout).toMatch(/^author: +alice \(/m);
    expect(got.stdout).toMatch(/^approved by: +bob \(/m);
    expect(got.stdout).toMatch(/^owner: +team-crm$/m);
    expect(got.stdout).toMatch(/^tags: +.*e2e/m);
    expect(got.stdout).toMatch(/^timeout: +5000 ms$/m);
    expect(got.stdout).toMatch(/^input schema:\n {2}type: object$/m);

    const json = await as(approver, ['tools', 'get', ref, '--json']);
    expect(json.code).toBe(0);
    const record = ToolVersionRecord.parse(JSON.parse(json.stdout));
    expect(record).toMatchObject({
      status: 'approved',
      author: 'alice',
      approvedBy: 'bob',
      timeoutMs: 5000,
    });
    const [n, v] = ref.split('@') as [string, string];
    const direct = await fetch(`${registry.url}${RegistryPaths.toolVersion(n, v)}`, {
      headers: { authorization: `Bearer ${approver}` },
    });
    expect(JSON.parse(json.stdout)).toEqual(await direct.json());
  });

  it('deprecates it; reading it then warns on stderr', async () => {
    const r = await as(approver, ['tools', 'deprecate', ref, '--reason', 'replaced by v2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${ref} is now deprecated: replaced by v2\n`);

    const got = await as(approver, ['tools', 'get', name]);
    expect(got.code).toBe(0);
    expect(got.stderr).toBe(`warning: ${ref} is deprecated: replaced by v2\n`);
    expect(got.stdout).toMatch(/^status: +deprecated \(replaced by v2\)$/m);

    const versions = await as(approver, ['tools', 'versions', name]);
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(
      /^\S+ +deprecated +alice +bob +\d{4}-\d\d-\d\d +replaced by v2$/m,
    );
  });

  it('refuses a malformed name@version before asking the registry (exit 2)', async () => {
    const r = await as(approver, ['tools', 'approve', 'Get-Customer@one']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('"Get-Customer@one" is not a tool version');
    const missing = await as(approver, ['tools', 'deprecate', name]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('the version is missing');
  });

  it('says so when the registry is unreachable (exit 3)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['tools', 'list', '--registry', url], { TOOLBUS_TOKEN: approver });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cannot reach the registry at ${url}`);
    expect(r.stderr).toContain('--registry <url> or TOOLBUS_REGISTRY_URL');
    expect(r.stderr).not.toContain(approver);
  });

  it('shows where a broken document is wrong when the registry refuses it (422, exit 1)', async () => {
    const broken = pickBrokenCase();
    const args = [
      'tools',
      'import-openapi',
      broken.file,
      '--source',
      'inventory',
      '--owner',
      'inventory-team',
      '--region',
      'eu',
    ];
    const r = await as(importer, args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
    const issue = r.stderr
      .split('\n')
      .find((line) => line.startsWith(`  /document${broken.pointer}: `));
    expect(issue, r.stderr).toBeDefined();
    expect(issue).toContain(broken.message);

    const json = await as(importer, [...args, '--json']);
    expect(json.code).toBe(1);
    const problem = JSON.parse(json.stdout) as {
      status: number;
      issues: Array<{ pointer: string }>;
    };
    expect(problem.status).toBe(422);
    expect(problem.issues.map((i) => i.pointer)).toContain(`/document${broken.pointer}`);
  });
});
