import {
  Messages,
  RegistryPaths,
  Topics,
  type AuditEvent,
  type RegistryChanged,
  type ToolPage,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import type { Subscription } from '@toolbus/messaging';
import { RegistryView } from '@toolbus/registry-client';
import { uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxRelay } from '../src/events/outbox.js';
import {
  client,
  definition,
  logger,
  startTestRegistry,
  type Client,
  type TestRegistry,
} from './support.js';

describe('registry catalog on PostgreSQL and Kafka', () => {
  let t: TestRegistry;
  let alice: Client; // writes tools, and may approve (but never her own)
  let bob: Client; // approver
  let reader: Client;
  const audit: AuditEvent[] = [];
  const changes: RegistryChanged[] = [];
  const subscriptions: Subscription[] = [];
  let view: RegistryView;
  const prefix = uniqueName('t').replace(/-/g, '_');
  const name = (n: string) => `${prefix}_${n}`.slice(0, 64);

  beforeAll(async () => {
    t = await startTestRegistry();
    alice = await client(
      t.url,
      'alice',
      ['registry:write', 'registry:approve', 'registry:read', 'crm:read'],
      { teams: ['team-crm'] },
    );
    bob = await client(t.url, 'bob', ['registry:approve', 'registry:read', 'crm:read']);
    reader = await client(t.url, 'orchestrator', ['registry:read', 'crm:read'], {
      regions: ['eu'],
    });
    subscriptions.push(
      await t.reader.subscribe<AuditEvent>(
        {
          topic: Topics.audit,
          groupId: uniqueName('audit-watch'),
          schema: Messages.auditRecorded.schema,
        },
        async (m) => {
          if (m.value.resource.id.startsWith(prefix)) audit.push(m.value);
        },
      ),
      await t.reader.subscribe<RegistryChanged>(
        {
          topic: Topics.registryChanges,
          groupId: uniqueName('changes-watch'),
          schema: Messages.registryChanged.schema,
        },
        async (m) => {
          if (m.value.name.startsWith(prefix)) changes.push(m.value);
        },
      ),
    );
    view = await RegistryView.start({
      registryUrl: t.url,
      token: reader.token,
      bus: t.reader,
      service: 'catalog-test',
      logger,
    });
  });
  afterAll(async () => {
    await view?.close();
    for (const s of subscriptions) await s.stop(1_000);
    await t?.close();
  });

  it('refuses callers without a token or without the scope, as problem+json', async () => {
    const anonymous = await fetch(new URL(RegistryPaths.tools, t.url));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    const res = await reader.put(
      RegistryPaths.toolVersion(name('x'), '1.0.0'),
      definition(name('x')),
    );
    expect(res.status).toBe(403);
    expect(res.body['detail']).toContain('registry:write');
  });

  it('runs the lifecycle with four eyes, audits each step with hashes, and tells readers', async () => {
    const tool = name('credit');
    const created = await alice.put(RegistryPaths.toolVersion(tool, '1.0.0'), definition(tool));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: tool,
      version: '1.0.0',
      status: 'draft',
      created: true,
    });

    // A draft is not served.
    expect((await reader.get(RegistryPaths.tool(tool))).status).toBe(404);

    const own = await alice.post(RegistryPaths.lifecycle(tool, '1.0.0', 'approve'));
    expect(own.status).toBe(403);
    expect(own.body['detail']).toMatch(/four eyes: alice wrote .* cannot approve/);
    const noScope = await reader.post(RegistryPaths.lifecycle(tool, '1.0.0', 'approve'));
    expect(noScope.status).toBe(403);
    expect(noScope.body['detail']).toContain('registry:approve');

    const approved = await bob.post<ToolVersionRecord>(
      RegistryPaths.lifecycle(tool, '1.0.0', 'approve'),
      {
        reason: 'reviewed',
      },
    );
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', approvedBy: 'bob', author: 'alice' });

    const change = await waitFor(() => changes.find((c) => c.name === tool), {
      what: 'change event',
    });
    expect(change.change).toEqual({ version: '1.0.0', status: 'approved' });
    expect(change.served.map((d) => d.version)).toEqual(['1.0.0']);
    expect(change.actor).toBe('bob');

    const seen = await waitFor(() => view.get(tool), {
      what: 'the reader cache to see the approval',
    });
    expect(seen.definition.version).toBe('1.0.0');
    expect(seen.deprecated).toBe(false);

    const events = await waitFor(
      () => {
        const mine = audit.filter((e) => e.resource.id === `${tool}@1.0.0`);
        return mine.length >= 3 ? mine : undefined;
      },
      { what: 'three audit events' },
    );
    const create = events.find((e) => e.action === 'registry.create_version')!;
    const denied = events.find((e) => e.action === 'registry.approve' && e.outcome === 'denied')!;
    const approval = events.find(
      (e) => e.action === 'registry.approve' && e.outcome === 'succeeded',
    )!;
    expect(create.actor.subject).toBe('alice');
    expect(denied.actor.subject).toBe('alice');
    expect(denied.reason).toContain('four eyes');
    expect(approval.actor.subject).toBe('bob');
    expect(approval.hashBefore).toBe(create.hashAfter);
    expect(approval.hashAfter).not.toBe(approval.hashBefore);
    expect(approval.reason).toBe('reviewed');
  });

  it('keeps versions immutable and names owned by one team', async () => {
    const tool = name('immutable');
    expect(
      (await alice.put(RegistryPaths.toolVersion(tool, '1.0.0'), definition(tool))).status,
    ).toBe(201);
    const again = await alice.put(RegistryPaths.toolVersion(tool, '1.0.0'), definition(tool));
    expect(again.status).toBe(200);
    expect(again.body['created']).toBe(false);
    const changed = await alice.put(
      RegistryPaths.toolVersion(tool, '1.0.0'),
      definition(tool, { description: 'Something else entirely, for the same version.' }),
    );
    expect(changed.status).toBe(409);
    expect(changed.body['detail']).toContain('versions are immutable');
    const notHers = await alice.put(
      RegistryPaths.toolVersion(tool, '2.0.0'),
      definition(tool, { version: '2.0.0', owner: 'team-other' }),
    );
    expect(notHers.status).toBe(403);
    expect(notHers.body['detail']).toContain('only members of team "team-other"');
    const carol = await client(t.url, 'carol', ['registry:write'], { teams: ['team-other'] });
    const stolen = await carol.put(
      RegistryPaths.toolVersion(tool, '2.0.0'),
      definition(tool, { version: '2.0.0', owner: 'team-other' }),
    );
    expect(stolen.status).toBe(409);
    expect(stolen.body['detail']).toContain('belongs to team "team-crm"');
    const mismatch = await alice.put(RegistryPaths.toolVersion(tool, '3.0.0'), definition(tool));
    expect(mismatch.status).toBe(422);
    expect(mismatch.body['issues']).toEqual([
      { pointer: '/version', message: 'must match the path ("3.0.0")' },
    ]);
  });

  it('serves the newest approved version, warns on deprecated ones and never serves retired ones', async () => {
    const tool = name('versions');
    for (const v of ['1.0.0', '1.2.0', '1.10.0'])
      await alice.put(RegistryPaths.toolVersion(tool, v), definition(tool, { version: v }));
    for (const v of ['1.0.0', '1.2.0', '1.10.0'])
      expect((await bob.post(RegistryPaths.lifecycle(tool, v, 'approve'))).status).toBe(200);
    expect((await reader.get<ToolVersionRecord>(RegistryPaths.tool(tool))).body.version).toBe(
      '1.10.0',
    );

    expect(
      (await bob.post(RegistryPaths.lifecycle(tool, '1.10.0', 'deprecate'), { reason: 'bug #12' }))
        .status,
    ).toBe(200);
    expect((await reader.get<ToolVersionRecord>(RegistryPaths.tool(tool))).body.version).toBe(
      '1.2.0',
    );
    const pinned = await reader.get<ToolVersionRecord>(RegistryPaths.tool(`${tool}@1.10.0`));
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get('deprecation')).toBe('true');
    expect(pinned.headers.get('warning')).toContain('deprecated: bug #12');

    expect((await bob.post(RegistryPaths.lifecycle(tool, '1.0.0', 'retire'))).status).toBe(200);
    const retired = await reader.get(RegistryPaths.tool(`${tool}@1.0.0`));
    expect(retired.status).toBe(410);
    const again = await bob.post(RegistryPaths.lifecycle(tool, '1.0.0', 'approve'));
    expect(again.status).toBe(409);
    expect(again.body['detail']).toContain('it is retired');

    // Only deprecated left: it still resolves, with the warning.
    await bob.post(RegistryPaths.lifecycle(tool, '1.2.0', 'retire'));
    const last = await reader.get<ToolVersionRecord>(RegistryPaths.tool(tool));
    expect(last.body.version).toBe('1.10.0');
    expect(last.headers.get('warning')).toContain('deprecated');
    await waitFor(() => view.get(tool)?.deprecated === true, {
      what: 'the cache to see the deprecation',
    });

    await bob.post(RegistryPaths.lifecycle(tool, '1.10.0', 'retire'));
    expect((await reader.get(RegistryPaths.tool(tool))).status).toBe(404);
    await waitFor(() => view.get(tool) === undefined, {
      what: 'the cache to drop the retired tool',
    });
    const last3 = changes.filter((c) => c.name === tool).slice(-1)[0]!;
    expect(last3.served).toEqual([]);
  });

  it('searches by text, tag, owner and region, filtered by the caller, with cursors and ETags', async () => {
    const tag = uniqueName('tag').slice(0, 60);
    const names: string[] = [];
    for (let i = 0; i < 25; i++) {
      const tool = name(`search_${String(i).padStart(2, '0')}`);
      names.push(tool);
      await alice.put(
        RegistryPaths.toolVersion(tool, '1.0.0'),
        definition(tool, {
          tags: [tag, i % 2 ? 'odd' : 'even'],
          title: i === 7 ? 'Invoice lookup' : 'Search probe',
          scopes: i === 3 ? ['crm:write'] : ['crm:read'],
          region: i === 4 ? 'us' : 'eu',
        }),
      );
      await bob.post(RegistryPaths.lifecycle(tool, '1.0.0', 'approve'));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `${RegistryPaths.tools}?tag=${tag}&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await reader.get<ToolPage>(query);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i) => i.name));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    // The reader lacks crm:write (tool 3) and is limited to the eu region (tool 4).
    expect(seen).toEqual(names.filter((_, i) => i !== 3 && i !== 4));
    expect(pages).toBe(3);

    const invoice = await reader.get<ToolPage>(
      `${RegistryPaths.tools}?tag=${tag}&q=invoice%20LOOKUP`,
    );
    expect(invoice.status, JSON.stringify(invoice.body)).toBe(200);
    expect(invoice.body.items.map((i) => i.name)).toEqual([names[7]]);
    const odd = await reader.get<ToolPage>(`${RegistryPaths.tools}?tag=${tag}&tag=odd&limit=100`);
    expect(odd.body.items.length).toBe(11); // 12 odd ones, minus tool 3
    const owner = await reader.get<ToolPage>(`${RegistryPaths.tools}?tag=${tag}&owner=team-nobody`);
    expect(owner.body.items).toEqual([]);
    const us = await bob.get<ToolPage>(`${RegistryPaths.tools}?tag=${tag}&region=us`);
    expect(us.body.items.map((i) => i.name)).toEqual([names[4]]);

    const first = await reader.get(`${RegistryPaths.tools}?tag=${tag}`);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const notModified = await reader.get(`${RegistryPaths.tools}?tag=${tag}`, {
      'if-none-match': etag,
    });
    expect(notModified.status).toBe(304);
    await alice.put(
      RegistryPaths.toolVersion(names[0]!, '1.1.0'),
      definition(names[0]!, { version: '1.1.0', tags: [tag] }),
    );
    await bob.post(RegistryPaths.lifecycle(names[0]!, '1.1.0', 'approve'));
    const modified = await reader.get(`${RegistryPaths.tools}?tag=${tag}`, {
      'if-none-match': etag,
    });
    expect(modified.status).toBe(200);
  });

  it('shows drafts only to reviewers and refuses bad queries naming the parameter', async () => {
    const tool = name('draft_only');
    await alice.put(
      RegistryPaths.toolVersion(tool, '0.1.0'),
      definition(tool, { version: '0.1.0' }),
    );
    const drafts = await alice.get<ToolPage>(`${RegistryPaths.tools}?status=draft&q=${tool}`);
    expect(drafts.body.items.map((i) => `${i.name}@${i.version}`)).toEqual([`${tool}@0.1.0`]);
    expect((await reader.get(`${RegistryPaths.tools}?status=draft`)).status).toBe(403);
    expect((await reader.get(RegistryPaths.toolVersion(tool, '0.1.0'))).status).toBe(404);
    expect((await alice.get(RegistryPaths.toolVersion(tool, '0.1.0'))).status).toBe(200);

    for (const [query, pointer] of [
      ['limit=0', '/limit'],
      ['limit=abc', '/limit'],
      ['status=published', '/status/0'],
      ['region=Europe', '/region'],
      ['colour=blue', '/'],
      ['cursor=not-a-cursor', '/cursor'],
    ] as const) {
      const res = await reader.get(`${RegistryPaths.tools}?${query}`);
      expect(res.status, query).toBe(422);
      expect(
        (res.body['issues'] as Array<{ pointer: string }>).map((i) => i.pointer),
        query,
      ).toContain(pointer);
    }
  });

  it('exposes the outbox and request metrics an SRE watches', async () => {
    await t.registry.get(OutboxRelay).flush();
    const text = await (await fetch(new URL('/metrics', t.registry.managementUrl))).text();
    expect(text).toMatch(
      /toolbus_registry_outbox_published_total\{topic="toolbus.registry.changes"\} [1-9]/,
    );
    expect(text).toMatch(/toolbus_registry_outbox_published_total\{topic="toolbus.audit"\} [1-9]/);
    expect(text).toMatch(/^toolbus_registry_outbox_pending 0$/m);
    expect(text).toMatch(
      /toolbus_http_request_duration_seconds_count\{route="\/v1\/tools\/:name\/versions\/:version\/:action",method="POST",status="403"\} [1-9]/,
    );
  });

  it('serves a snapshot of every served tool with revisions', async () => {
    const snapshot = await reader.get<{
      revision: number;
      tools: Array<{ name: string; revision: number }>;
    }>(RegistryPaths.catalog);
    expect(snapshot.status).toBe(200);
    const credit = snapshot.body.tools.find((x) => x.name === name('credit'));
    expect(credit?.revision).toBeGreaterThan(0);
    expect(snapshot.body.revision).toBeGreaterThanOrEqual(credit!.revision);
    // registry:read alone shows only the tools the caller may use (not search_03's crm:write,
    // nor search_04 in the us region); registry:catalog, the executors' scope, shows them all.
    const names = (s: typeof snapshot) => s.body.tools.map((x) => x.name);
    expect(names(snapshot)).not.toContain(name('search_03'));
    expect(names(snapshot)).not.toContain(name('search_04'));
    const executor = await client(t.url, 'http-executor', ['registry:read', 'registry:catalog'], {
      kind: 'service',
    });
    const whole = await executor.get<typeof snapshot.body>(RegistryPaths.catalog);
    expect(names(whole)).toEqual(
      expect.arrayContaining([name('credit'), name('search_03'), name('search_04')]),
    );
  });

  it('signs every change event, and serves the keys at /.well-known/jwks.json without a token', async () => {
    const jwks = await fetch(new URL(RegistryPaths.jwks, t.url));
    expect(jwks.status).toBe(200);
    const { keys } = (await jwks.json()) as {
      keys: Array<{ kid: string; crv: string; d?: string }>;
    };
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(keys[0]!.d).toBeUndefined();
    const signed = changes.filter((c) => c.name.startsWith(prefix));
    expect(signed.length).toBeGreaterThan(0);
    for (const c of signed)
      expect(JSON.parse(Buffer.from(c.signature!.split('.')[0]!, 'base64url').toString())).toEqual({
        alg: 'EdDSA',
        kid: keys[0]!.kid,
      });
  });
});
