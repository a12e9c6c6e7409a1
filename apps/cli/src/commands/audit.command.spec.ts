import { appendToChain, type AuditEntry, type ChainRow } from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ORCHESTRATOR_URL, ExitCode, runCli, type CliIo } from '../program.js';

type Route = (url: URL) => Response;

/** The CLI with captured output and a fetch that answers with `route`. */
async function cli(args: string[], route?: Route, env: Record<string, string> = {}) {
  const urls: URL[] = [];
  const headers: Array<Record<string, string>> = [];
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { TOOLBUS_TOKEN: 'token-1', ...env },
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      urls.push(url);
      headers.push(Object.fromEntries(new Headers(init?.headers).entries()));
      if (!route) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      return route(url);
    }) as typeof fetch,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr, urls, headers };
}

const ok = (body: unknown) => Response.json(body);

function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    sequence: 7,
    eventId: '0b5f3c1e-8a9d-4f1b-9c2e-3d4a5b6c7d8e',
    at: '2026-03-01T10:00:00.123Z',
    recordedAt: '2026-03-01T10:00:00.200Z',
    source: '/toolbus/orchestrator',
    actor: { subject: 'alice', kind: 'user' },
    tenant: 'acme',
    action: 'tool.call',
    resource: { kind: 'tool', id: 'get_credit_limit@1.0.0' },
    tool: 'get_credit_limit',
    outcome: 'denied',
    decision: 'refused',
    reason: 'over the quota',
    keyId: 'k1',
    ...over,
  };
}

/** A chain of `n` rows as the ledger stores them. */
function chain(n: number): ChainRow[] {
  const rows: ChainRow[] = [];
  for (let i = 1; i <= n; i++) rows.push(appendToChain(rows.at(-1), { event_id: `e${i}`, n: i }));
  return rows;
}

/** The chain endpoint over `rows`, `size` per page; the head is the last stored row's. */
function chainRoute(rows: ChainRow[], size = 2, head = rows.at(-1)): Route {
  return (url) => {
    const after = Number(url.searchParams.get('after') ?? 0);
    const items = rows.filter((r) => r.sequence > after).slice(0, size);
    return ok({
      head: head
        ? { sequence: head.sequence, hash: head.hash }
        : { sequence: 0, hash: '0'.repeat(64) },
      items,
      nextAfter: items.length === size ? items.at(-1)!.sequence : null,
    });
  };
}

describe('audit list', () => {
  it('prints who called what, when, with which decision; filters go into the query', async () => {
    const r = await cli(
      [
        'audit',
        'list',
        '--tool',
        'get_credit_limit',
        '--decision',
        'refused',
        '--since',
        '2026-03-01T00:00:00Z',
      ],
      () =>
        ok({
          items: [
            entry(),
            entry({
              sequence: 6,
              action: 'ask.answer',
              resource: { kind: 'ask', id: 'ask-1' },
              decision: 'allowed',
              outcome: 'succeeded',
              reason: undefined,
            }),
          ],
          nextCursor: '6',
        }),
    );
    expect(r.code).toBe(ExitCode.ok);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^AT\s+TENANT\s+WHO\s+ACTION\s+WHAT\s+DECISION\s+OUTCOME\s+REASON$/);
    expect(lines[1]).toMatch(
      /^2026-03-01 10:00:00\s+acme\s+alice\s+tool\.call\s+get_credit_limit@1\.0\.0\s+refused\s+denied\s+over the quota$/,
    );
    expect(lines[2]).toMatch(/ask\.answer\s+ask ask-1\s+allowed\s+succeeded$/);
    expect(r.stderr).toBe('next page: --cursor 6\n');
    const url = r.urls[0]!;
    expect(url.origin).toBe(DEFAULT_ORCHESTRATOR_URL);
    expect(url.pathname).toBe('/v1/audit');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tool: 'get_credit_limit',
      decision: 'refused',
      since: '2026-03-01T00:00:00Z',
    });
    expect(r.headers[0]!['authorization']).toBe('Bearer token-1');
  });

  it('says when sealed fields could not be opened', async () => {
    const r = await cli(['audit', 'list'], () =>
      ok({
        items: [entry({ reason: undefined, undecryptable: 'audit key "k0" is not mounted' })],
        nextCursor: null,
      }),
    );
    expect(r.stdout).toContain('(sealed: audit key "k0" is not mounted)');
  });

  it('with --json prints the API JSON; with --all it follows the cursor to the end', async () => {
    const pages: Record<string, unknown> = {
      '': { items: [entry({ sequence: 3 })], nextCursor: '3' },
      '3': { items: [entry({ sequence: 2 })], nextCursor: '2' },
      '2': { items: [entry({ sequence: 1 })], nextCursor: null },
    };
    const route: Route = (url) => ok(pages[url.searchParams.get('cursor') ?? '']);
    const r = await cli(
      ['audit', 'list', '--all', '--json', '--orchestrator', 'http://ledger:9000'],
      route,
    );
    expect(r.code).toBe(0);
    expect(r.urls.map((u) => u.origin)).toEqual(Array(3).fill('http://ledger:9000'));
    const body = JSON.parse(r.stdout) as { items: AuditEntry[]; nextCursor: null };
    expect(body.items.map((i) => i.sequence)).toEqual([3, 2, 1]);
    expect(body.nextCursor).toBeNull();
  });

  it.each([
    [['--decision', 'maybe'], /option '--decision <decision>' argument 'maybe' is invalid/],
    [['--since', 'yesterday'], /option '--since <time>' argument 'yesterday' is invalid/],
    [['--tenant', 'ACME'], /option '--tenant <tenant>' argument 'ACME' is invalid/],
  ])('refuses %j before anything is sent (exit 2)', async (args, message) => {
    const r = await cli(['audit', 'list', ...args], () => ok({}));
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(message);
    expect(r.urls).toHaveLength(0);
  });

  it("shows the ledger's refusal (exit 1), e.g. another tenant without audit:read_all", async () => {
    const detail =
      "audit:read reads only your own tenant's rows (acme); tenant globex needs audit:read_all";
    const r = await cli(['audit', 'list', '--tenant', 'globex'], () =>
      Response.json({ status: 403, title: 'Forbidden', detail }, { status: 403 }),
    );
    expect(r.code).toBe(ExitCode.refused);
    expect(r.stderr).toContain(`error: ${detail}`);
  });

  it('names the orchestrator and how to point at it when nothing answers (exit 3)', async () => {
    const r = await cli(['audit', 'list']);
    expect(r.code).toBe(ExitCode.unreachable);
    expect(r.stderr).toContain(
      `cannot reach the orchestrator at ${DEFAULT_ORCHESTRATOR_URL}: ECONNREFUSED`,
    );
    expect(r.stderr).toContain('--orchestrator <url> or TOOLBUS_ORCHESTRATOR_URL');
  });

  it('refuses a malformed orchestrator URL, and only where it is used', async () => {
    const env = { TOOLBUS_ORCHESTRATOR_URL: 'ftp://ledger' };
    const audit = await cli(['audit', 'list'], () => ok({}), env);
    expect(audit.code).toBe(ExitCode.usage);
    expect(audit.stderr).toContain(
      'orchestrator URL "ftp://ledger" must start with http:// or https://',
    );
    const tools = await cli(['tools', 'list'], () => ok({ items: [], nextCursor: null }), env);
    expect(tools.code).toBe(ExitCode.ok);
  });
});

describe('audit verify', () => {
  const rows = chain(5);

  it('reads the chain page by page and reports it intact (exit 0), with a checkpoint for next time', async () => {
    const r = await cli(['audit', 'verify'], chainRoute(rows));
    expect(r.code).toBe(ExitCode.ok);
    expect(r.urls.map((u) => `${u.pathname}?${u.searchParams}`)).toEqual([
      '/v1/audit/chain?after=0',
      '/v1/audit/chain?after=2',
      '/v1/audit/chain?after=4',
    ]);
    expect(r.stdout).toBe('audit chain intact: 5 rows verified, head 5\n');
    expect(r.stderr).toContain(`toolbus audit verify --after 5:${rows[4]!.hash}`);
  });

  it('names a changed row (exit 4)', async () => {
    const changed = rows.map((row) =>
      row.sequence === 3 ? { ...row, record: { ...row.record, n: 33 } } : row,
    );
    const r = await cli(['audit', 'verify'], chainRoute(changed));
    expect(r.code).toBe(ExitCode.chainBroken);
    expect(r.stdout.split('\n')[0]).toBe(
      'audit chain BROKEN at row 3 (broken): row 3 was changed after it was written: its content does not match its hash',
    );
  });

  it('names a deleted row (exit 4)', async () => {
    const r = await cli(
      ['audit', 'verify'],
      chainRoute(
        rows.filter((row) => row.sequence !== 2),
        2,
        rows[4],
      ),
    );
    expect(r.code).toBe(ExitCode.chainBroken);
    expect(r.stdout).toMatch(/^audit chain BROKEN at row 2 \(missing\): row 2 is missing/);
  });

  it('names two swapped rows (exit 4)', async () => {
    const swapped = rows.map((row) =>
      row.sequence === 2
        ? { ...rows[3]!, sequence: 2 }
        : row.sequence === 4
          ? { ...rows[1]!, sequence: 4 }
          : row,
    );
    const r = await cli(['audit', 'verify'], chainRoute(swapped, 10, rows[4]));
    expect(r.code).toBe(ExitCode.chainBroken);
    expect(r.stdout).toMatch(
      /^audit chain BROKEN at row 2 \(reordered\): rows 2 and 4 are swapped/,
    );
  });

  it('with --json prints the verdict and still exits 4 when broken', async () => {
    const r = await cli(['audit', 'verify', '--json'], chainRoute(rows.slice(0, 4), 10, rows[4]));
    expect(r.code).toBe(ExitCode.chainBroken);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      rows: 4,
      first: { kind: 'missing', sequence: 5 },
      head: { sequence: 5 },
    });
  });

  it('starts after a checkpoint, and refuses a malformed one (exit 2)', async () => {
    const from = `${rows[2]!.sequence}:${rows[2]!.hash}`;
    const r = await cli(['audit', 'verify', '--after', from], chainRoute(rows));
    expect(r.code).toBe(ExitCode.ok);
    expect(r.urls[0]!.searchParams.get('after')).toBe('3');
    expect(r.stdout).toBe('audit chain intact: 2 rows verified, head 5\n');
    const bad = await cli(['audit', 'verify', '--after', '3'], chainRoute(rows));
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toContain('must be <sequence>:<hash>');
  });

  it('refuses a page that is not the chain contract (exit 1)', async () => {
    const r = await cli(['audit', 'verify'], () => ok({ items: 'rows' }));
    expect(r.code).toBe(ExitCode.refused);
    expect(r.stderr).toContain(
      'the answer to GET /v1/audit/chain does not match the orchestrator API contract',
    );
  });
});
