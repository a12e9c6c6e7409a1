import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Messages,
  RegistryPaths,
  Topics,
  type AuditEvent,
  type ImportDiff,
  type McpUpstreamRecord,
  type ToolPage,
} from '@toolbus/contracts';
import {
  createMcpStdioFixture,
  exampleStdioTools,
  startMcpHttpServer,
  uniqueName,
  waitFor,
  type McpHttpTestServer,
  type McpStdioFixture,
} from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamService } from '../src/upstreams/upstream.service.js';
import { client, startTestRegistry, type Client, type TestRegistry } from './support.js';

describe('upstream MCP servers: listed into drafts, kept in sync on list_changed', () => {
  let t: TestRegistry;
  let admin: Client;
  let writer: Client;
  let secrets: string;
  let http: McpHttpTestServer;
  let stdio: McpStdioFixture;
  const token = 'upstream-token-1234';
  const audit: AuditEvent[] = [];

  beforeAll(async () => {
    secrets = await mkdtemp(join(tmpdir(), 'registry-secrets-'));
    await mkdir(join(secrets, 'docs-mcp'));
    await writeFile(join(secrets, 'docs-mcp', 'token'), `${token}\n`);
    http = await startMcpHttpServer({ token, pageSize: 2 });
    stdio = await createMcpStdioFixture();
    t = await startTestRegistry({
      SECRETS_DIR: secrets,
      MCP_STDIO_COMMANDS: process.execPath,
      CREDENTIAL_ORIGINS: JSON.stringify({
        'docs-mcp': [new URL(http.url).origin],
        'not-mounted': [new URL(http.url).origin],
      }),
    });
    admin = await client(
      t.url,
      'platform-admin',
      ['registry:admin', 'registry:write', 'registry:read'],
      { teams: ['team-docs', 'team-sidecar', 'team-x', 'team-moved'] },
    );
    writer = await client(t.url, 'dev', ['registry:write', 'registry:read'], {
      teams: ['team-docs'],
    });
    await t.reader.subscribe<AuditEvent>(
      {
        topic: Topics.audit,
        groupId: uniqueName('upstream-audit'),
        schema: Messages.auditRecorded.schema,
      },
      async (m) => {
        if (m.value.resource.kind === 'mcp_source') audit.push(m.value);
      },
    );
  });
  afterAll(async () => {
    await t?.close();
    await http?.close();
    await stdio?.cleanup();
    await rm(secrets, { recursive: true, force: true });
  });

  const drafts = async (q: string) =>
    (await admin.get<ToolPage>(`${RegistryPaths.tools}?status=draft&q=${q}&limit=100`)).body.items;

  it('lists a Streamable HTTP server with its bearer secret, prefixing its tools', async () => {
    const name = uniqueName('docs').slice(0, 40);
    const prefix = `${name.replace(/-/g, '_')}_`.slice(0, 32);
    const res = await admin.post<{ upstream: McpUpstreamRecord; diff: ImportDiff }>(
      RegistryPaths.upstreams,
      {
        name,
        transport: { kind: 'streamable_http', url: http.url },
        credentialsSecret: 'docs-mcp',
        prefix,
        owner: 'team-docs',
        region: 'eu',
        scopes: ['docs:read'],
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const names = res.body.diff.added.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining([`${prefix}echo`, `${prefix}add`]));
    expect(res.body.upstream.tools).toEqual([...names].sort());
    // Only the referenced secret went upstream.
    expect(new Set(http.requests.map((r) => r.authorization))).toEqual(
      new Set([`Bearer ${token}`]),
    );

    const echo = (await drafts(`${prefix}echo`))[0]!;
    expect(echo).toMatchObject({
      version: '1.0.0',
      owner: 'team-docs',
      scopes: ['docs:read'],
      author: 'platform-admin',
      transport: { kind: 'kafka', topic: 'tool_requests.mcp-bridge' },
      binding: { kind: 'mcp', server: name, tool: 'echo', credentialsSecret: 'docs-mcp' },
      source: { kind: 'mcp', upstream: name, tool: 'echo' },
      annotations: { readOnlyHint: true },
    });

    // The registry keeps a session open; a new upstream tool becomes a draft on list_changed.
    await waitFor(() => http.openStreams() >= 1, { what: 'the registry watching the server' });
    await http.addTool({
      name: 'word_count',
      title: 'Word count',
      description: 'Counts the words of a text.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      handler: (args) => ({
        content: [{ type: 'text', text: String(String(args['text']).split(/\s+/).length) }],
      }),
    });
    const added = await waitFor(async () => (await drafts(`${prefix}word_count`))[0], {
      timeoutMs: 15_000,
      what: 'the draft of the tool announced by list_changed',
    });
    // A sync's drafts are the registrant's: they cannot approve them (four eyes).
    expect(added.author).toBe('platform-admin');
    const record = await admin.get<McpUpstreamRecord>(RegistryPaths.upstream(name));
    expect(record.body.tools).toContain(`${prefix}word_count`);
    expect(record.body.lastSyncAt).not.toBeNull();

    // Removing a tool upstream is recorded, never silently withdrawn from the catalog.
    await http.removeTool('echo');
    await waitFor(
      async () =>
        !(await admin.get<McpUpstreamRecord>(RegistryPaths.upstream(name))).body.tools.includes(
          `${prefix}echo`,
        ),
      { timeoutMs: 15_000, what: 'the removal to be recorded' },
    );
    expect((await drafts(`${prefix}echo`)).length).toBe(1);
    const sync = await writer.post<ImportDiff>(RegistryPaths.upstreamSync(name));
    expect(sync.status).toBe(200);
    expect(sync.body.unchanged.map((u) => u.name)).not.toContain(`${prefix}echo`);
    expect(sync.body.added).toEqual([]);
  });

  it('runs a stdio server, exposes its tools unprefixed, and follows list_changed', async () => {
    const name = uniqueName('sidecar').slice(0, 40);
    const res = await admin.post<{ diff: ImportDiff }>(RegistryPaths.upstreams, {
      name,
      transport: { kind: 'stdio', command: stdio.command, args: stdio.args },
      prefix: null,
      owner: 'team-sidecar',
      region: 'eu',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.diff.added.map((a) => a.name)).toEqual(expect.arrayContaining(['echo', 'add']));
    expect((await drafts('shout')).length).toBe(0);
    await waitFor(() => t.registry.get(UpstreamService).isWatching(name), {
      what: 'the registry watching the child',
    });
    await stdio.setTools([
      ...exampleStdioTools(),
      {
        name: 'shout',
        description: 'Upper-cases the text.',
        inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
      },
    ]);
    const shout = await waitFor(async () => (await drafts('shout'))[0], {
      timeoutMs: 15_000,
      what: 'the stdio tool announced by list_changed',
    });
    expect(shout.binding).toMatchObject({
      kind: 'mcp',
      server: name,
      tool: 'shout',
      transport: { kind: 'stdio' },
    });
  });

  it('refuses what it cannot list, and registrations without registry:admin, writing nothing', async () => {
    const name = uniqueName('down').slice(0, 40);
    const body = {
      name,
      transport: { kind: 'streamable_http', url: 'http://127.0.0.1:9/mcp' },
      owner: 'team-x',
      region: 'eu',
    };
    const forbidden = await writer.post(RegistryPaths.upstreams, body);
    expect(forbidden.status).toBe(403);
    const down = await admin.post(RegistryPaths.upstreams, body);
    expect(down.status).toBe(422);
    expect(down.body['detail']).toContain(`could not list the tools of MCP server "${name}"`);
    expect((await admin.get(RegistryPaths.upstream(name))).status).toBe(404);

    const noSecret = await admin.post(RegistryPaths.upstreams, {
      ...body,
      transport: { kind: 'streamable_http', url: http.url },
      credentialsSecret: 'not-mounted',
    });
    expect(noSecret.status).toBe(422);
    expect(noSecret.body['detail']).toContain('not-mounted');
    const invalid = await admin.post(RegistryPaths.upstreams, {
      ...body,
      transport: { kind: 'carrier-pigeon' },
    });
    expect(invalid.status).toBe(422);
    expect((invalid.body['issues'] as Array<{ pointer: string }>)[0]!.pointer).toBe(
      '/transport/kind',
    );
  });

  it('moves its watch when an upstream is registered again at another address', async () => {
    const name = uniqueName('moved').slice(0, 40);
    const body = { name, owner: 'team-moved', region: 'eu', prefix: 'moved_' };
    const before = http.sessions();
    const first = await admin.post(RegistryPaths.upstreams, {
      ...body,
      transport: { kind: 'streamable_http', url: http.url },
      credentialsSecret: 'docs-mcp',
    });
    expect(first.status).toBe(201);
    await waitFor(() => t.registry.get(UpstreamService).isWatching(name), {
      what: 'the first watch',
    });
    expect(http.sessions()).toBe(before + 1);
    const second = await startMcpHttpServer();
    try {
      const moved = await admin.post(RegistryPaths.upstreams, {
        ...body,
        transport: { kind: 'streamable_http', url: second.url },
      });
      expect(moved.status, JSON.stringify(moved.body)).toBe(201);
      await waitFor(() => second.openStreams() >= 1, { what: 'the watch on the new address' });
      await waitFor(() => http.sessions() === before, { what: 'the old session to be closed' });
    } finally {
      await admin.delete(RegistryPaths.upstream(name));
      await second.close();
    }
  });

  it('lists and removes upstreams, showing a plain reader only those whose scopes it holds', async () => {
    const list = await writer.get<{ items: McpUpstreamRecord[] }>(RegistryPaths.upstreams);
    expect(list.body.items.length).toBeGreaterThanOrEqual(2);
    const docs = list.body.items.find((u) => u.scopes.includes('docs:read'))!;
    const reader = await client(t.url, 'reader', ['registry:read']);
    const docsReader = await client(t.url, 'docs-reader', ['registry:read', 'docs:read']);
    const seen = async (c: Client) =>
      (await c.get<{ items: McpUpstreamRecord[] }>(RegistryPaths.upstreams)).body.items.map(
        (u) => u.name,
      );
    expect(await seen(reader)).not.toContain(docs.name);
    expect((await reader.get(RegistryPaths.upstream(docs.name))).status).toBe(404);
    expect(await seen(docsReader)).toContain(docs.name);
    const name = list.body.items[0]!.name;
    expect((await writer.delete(RegistryPaths.upstream(name))).status).toBe(403);
    expect((await admin.delete(RegistryPaths.upstream(name))).status).toBe(204);
    expect((await admin.get(RegistryPaths.upstream(name))).status).toBe(404);
    // Registering, syncing and removing an upstream are each audited with the actor.
    const mine = await waitFor(
      () => {
        const events = audit.filter((e) => e.resource.id === name);
        return events.some((e) => e.action === 'registry.remove_upstream') ? events : undefined;
      },
      { what: 'the audit events of the upstream' },
    );
    expect(mine.find((e) => e.action === 'registry.register_upstream')?.actor.subject).toBe(
      'platform-admin',
    );
    expect(mine.find((e) => e.action === 'registry.remove_upstream')).toMatchObject({
      actor: { subject: 'platform-admin' },
      outcome: 'succeeded',
      hashBefore: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});
