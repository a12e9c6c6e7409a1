import { rmSync } from 'node:fs';
import {
  AuditChainPage,
  AuditPage,
  verifyChain,
  type AuditEntry,
  type ChainRow,
} from '@toolbus/contracts';
import { createKafkaBus, type MessageBus } from '@toolbus/messaging';
import { rowsOf, type DataSource } from '@toolbus/persistence';
import type { RunningService } from '@toolbus/service-kit';
import { infraFromEnv, issueToken, TEST_JWT_SECRET, uniqueName, waitFor } from '@toolbus/testing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditKeys,
  ledgerSchema,
  logger,
  ownerConnection,
  publish,
  startLedger,
  tenantId,
  toolbus,
  toolCallEvent,
} from './ledger-support.js';

/**
 * The ledger on the real Kafka and PostgreSQL: events published on `toolbus.audit` as the
 * orchestrator, the model shim and the registry publish them become sealed, chained rows; the
 * read API answers each tenant only its own; and `toolbus audit verify` names every kind of
 * tampering done directly in the database.
 */
describe('audit ledger', () => {
  const started = new Date().toISOString();
  const schema = ledgerSchema();
  const keysDir = auditKeys('k1');
  const acme = tenantId('acme');
  const globex = tenantId('globex');
  let ledger: RunningService<unknown>;
  let bus: MessageBus;
  let db: DataSource;
  let readAll: string;

  const rowsOfTenant = async (tenant: string) =>
    rowsOf<Record<string, unknown>>(
      await db.query('SELECT * FROM audit_ledger WHERE tenant = $1 ORDER BY sequence', [tenant]),
    );
  const get = async (path: string, token?: string) => {
    const res = await fetch(`${ledger.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const reader = (tenant: string, scopes = ['audit:read']) =>
    issueToken({ sub: `reader@${tenant}`, tenant, scopes });
  const verify = () =>
    toolbus(['audit', 'verify'], {
      TOOLBUS_ORCHESTRATOR_URL: ledger.url,
      TOOLBUS_TOKEN: readAll,
    });

  beforeAll(async () => {
    ledger = await startLedger({ name: uniqueName('ledger-it'), schema, keysDir });
    bus = createKafkaBus({
      serviceName: uniqueName('audit-producer'),
      brokers: infraFromEnv().kafkaBrokers,
      logger,
    });
    db = await ownerConnection(schema);
    readAll = await issueToken({
      sub: 'compliance',
      tenant: 'platform',
      scopes: ['audit:read_all'],
    });
  });

  afterAll(async () => {
    await bus?.close(2_000);
    await ledger?.close();
    await db?.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('turns published events into chained rows whose sealed fields are ciphertext', async () => {
    const call = toolCallEvent(acme);
    const ask = toolCallEvent(acme, {
      action: 'ask.answer',
      resource: { kind: 'ask', id: 'ask-1' },
      outcome: 'succeeded',
      reason: undefined,
      details: { inputTokens: 900, outputTokens: 40, costUsd: 0.003, latencyMs: 640 },
    });
    const model = toolCallEvent(acme, {
      actor: { subject: 'model-shim', kind: 'service', tenant: acme, scopes: [] },
      action: 'model.call',
      resource: { kind: 'model', id: 'anthropic:claude' },
      outcome: 'succeeded',
      reason: undefined,
      details: { usage: { inputTokens: 900, outputTokens: 40 }, costUsd: 0.003, latencyMs: 600 },
    });
    await publish(bus, call, ask, model);
    const rows = await waitFor(
      async () => {
        const stored = await rowsOfTenant(acme);
        return stored.length === 3 ? stored : undefined;
      },
      { timeoutMs: 30_000, what: 'the three events as ledger rows' },
    );
    expect(rows.map((r) => r['action'])).toEqual(['tool.call', 'ask.answer', 'model.call']);
    expect(rows[0]).toMatchObject({
      actor_subject: 'alice',
      tool: 'get_credit_limit',
      decision: 'refused',
      key_id: 'k1',
      trace_id: call.traceId,
    });
    expect(rows[2]).toMatchObject({ input_tokens: 900, output_tokens: 40, cost_usd: 0.003 });
    // At rest, the sealed column holds ciphertext: neither its text nor its bytes hold the secrets.
    for (const row of rows) {
      const stored = JSON.stringify(row);
      const bytes = Buffer.from(String(row['sealed']), 'base64').toString('latin1');
      for (const secret of ['Alice Liddell', 'Acme Corp', 'ih-acme-corp', 'quota']) {
        expect(stored).not.toContain(secret);
        expect(bytes).not.toContain(secret);
      }
    }
    // Each row holds the hash of the row before it, and the whole chain verifies.
    // Page by page up to the head the first page saw: the topic may hold other runs' events,
    // which the ledger keeps appending meanwhile, and rows up to that head no longer change.
    const first = await get('/v1/audit/chain', readAll);
    expect(first.status).toBe(200);
    let page = AuditChainPage.parse(first.body);
    const head = page.head;
    const items = [...page.items];
    while (page.nextAfter !== null && items.at(-1)!.sequence < head.sequence) {
      page = AuditChainPage.parse(
        (await get(`/v1/audit/chain?after=${page.nextAfter}`, readAll)).body,
      );
      items.push(...page.items);
    }
    const chained = items.filter((r) => r.sequence <= head.sequence);
    expect(verifyChain(chained, { head })).toMatchObject({ ok: true });
    const bySeq = new Map(chained.map((r) => [r.sequence, r]));
    for (const row of rows) {
      const stored = bySeq.get(Number(row['sequence']))!;
      expect(stored.prevHash).toBe(bySeq.get(stored.sequence - 1)?.hash ?? '0'.repeat(64));
    }
    // A reader of the tenant sees them opened.
    const listed = AuditPage.parse((await get('/v1/audit', await reader(acme))).body);
    expect(listed.items.map((i) => i.action)).toEqual(['model.call', 'ask.answer', 'tool.call']);
    expect(listed.items[2]).toMatchObject({
      actor: { subject: 'alice', displayName: 'Alice Liddell' },
      reason: 'the quota of get_credit_limit for Acme Corp is spent',
      argumentsHash: 'ih-acme-corp',
      tool: 'get_credit_limit',
      decision: 'refused',
    });
  });

  it('makes no second row when an event is delivered again', async () => {
    const event = toolCallEvent(acme, { reason: 'delivered three times' });
    const marker = toolCallEvent(acme, { reason: 'after the duplicates' });
    await publish(bus, event, event);
    await bus.publish('toolbus.audit', {
      type: 'dev.toolbus.audit.recorded.v1',
      key: acme,
      id: event.id,
      value: event,
    });
    // Same key, same partition: once the marker is stored, the copies before it were handled.
    await publish(bus, marker);
    await waitFor(async () => (await rowsOfTenant(acme)).some((r) => r['event_id'] === marker.id), {
      timeoutMs: 30_000,
      what: 'the marker event',
    });
    expect((await rowsOfTenant(acme)).filter((r) => r['event_id'] === event.id)).toHaveLength(1);
  });

  describe('reading', () => {
    beforeAll(async () => {
      const marker = toolCallEvent(globex, { reason: 'globex business' });
      await publish(bus, toolCallEvent(globex), marker);
      await waitFor(async () => (await rowsOfTenant(globex)).length === 2, {
        timeoutMs: 30_000,
        what: "globex's rows",
      });
    });

    const items = (body: Record<string, unknown>) => AuditPage.parse(body).items;
    const tenants = (list: AuditEntry[]) => [...new Set(list.map((i) => i.tenant))];

    it("answers a tenant reader only its own tenant's rows, whatever the query says", async () => {
      const acmeReader = await reader(acme);
      expect(tenants(items((await get('/v1/audit?limit=100', acmeReader)).body))).toEqual([acme]);
      expect(tenants(items((await get(`/v1/audit?tenant=${acme}`, acmeReader)).body))).toEqual([
        acme,
      ]);
      const forged = await get(`/v1/audit?tenant=${globex}`, acmeReader);
      expect(forged.status).toBe(403);
      expect(forged.body['detail']).toBe(
        `audit:read reads only your own tenant's rows (${acme}); tenant ${globex} needs audit:read_all`,
      );
      const globexOwn = items((await get('/v1/audit?limit=100', await reader(globex))).body);
      expect(tenants(globexOwn)).toEqual([globex]);
      expect(globexOwn).toHaveLength(2);
    });

    it('answers audit:read_all any tenant, or all of them', async () => {
      expect(tenants(items((await get(`/v1/audit?tenant=${globex}`, readAll)).body))).toEqual([
        globex,
      ]);
      const both = items((await get(`/v1/audit?principal=alice&since=${started}`, readAll)).body);
      expect(tenants(both)).toEqual(expect.arrayContaining([acme, globex]));
    });

    it('filters by principal, tool, decision and time, and pages with the cursor', async () => {
      const token = await reader(acme);
      const filtered = items(
        (await get('/v1/audit?tool=get_credit_limit&decision=refused&principal=alice', token)).body,
      );
      expect(filtered.length).toBeGreaterThan(0);
      expect(filtered.every((i) => i.tool === 'get_credit_limit' && i.decision === 'refused')).toBe(
        true,
      );
      expect(items((await get('/v1/audit?since=2999-01-01T00:00:00Z', token)).body)).toEqual([]);
      const first = AuditPage.parse((await get('/v1/audit?limit=2', token)).body);
      expect(first.items).toHaveLength(2);
      const second = AuditPage.parse(
        (await get(`/v1/audit?limit=2&cursor=${first.nextCursor}`, token)).body,
      );
      expect(second.items[0]!.sequence).toBeLessThan(first.items[1]!.sequence);
    });

    it.each([
      ['no token', undefined, 401, 'send a bearer token'],
      ['a token signed with another key', 'other', 401, 'token signature or format is invalid'],
      ['an expired token', 'expired', 401, 'token expired'],
      [
        'a token without an audit scope',
        'unscoped',
        403,
        'reading the audit ledger needs the scope audit:read',
      ],
    ])('refuses %s', async (_what, kind, status, detail) => {
      const token =
        kind === 'other'
          ? await issueToken(
              { sub: 'x', tenant: acme, scopes: ['audit:read'] },
              'another-key-0123456789abcdef-0123',
            )
          : kind === 'expired'
            ? await new SignJWT({ scope: 'audit:read', tenant: acme })
                .setProtectedHeader({ alg: 'HS256' })
                .setSubject('x')
                .setIssuer('https://toolbus.dev')
                .setAudience('toolbus')
                .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
                .sign(new TextEncoder().encode(TEST_JWT_SECRET))
            : kind === 'unscoped'
              ? await reader(acme, ['registry:read'])
              : undefined;
      const res = await get('/v1/audit', token);
      expect(res.status).toBe(status);
      expect(String(res.body['detail'])).toContain(detail);
    });

    it('keeps the chain to audit:read_all: it spans tenants', async () => {
      const res = await get('/v1/audit/chain', await reader(acme));
      expect(res.status).toBe(403);
      expect(res.body['detail']).toBe('this needs the scope audit:read_all');
    });

    it('refuses a malformed query, naming each bad parameter', async () => {
      const res = await get('/v1/audit?limit=0&decision=maybe&tenantid=x', await reader(acme));
      expect(res.status).toBe(422);
      const issues = res.body['issues'] as Array<{ pointer: string; message: string }>;
      expect(issues.map((i) => i.pointer)).toEqual(expect.arrayContaining(['/limit', '/decision']));
      expect(issues.find((i) => i.pointer === '/')?.message).toContain('tenantid');
    });
  });

  describe('tampering, directly in the database', () => {
    /** The newest rows, as stored; foreign events may keep arriving, so taken fresh each time. */
    const newest = async (n: number) =>
      rowsOf<Record<string, unknown>>(
        await db.query('SELECT * FROM audit_ledger ORDER BY sequence DESC LIMIT $1', [n]),
      ).reverse();
    /** One change as the table's owner, the append-only rule switched off just for it. */
    const asOwner = async (sql: string[], triggers = ['audit_ledger_append_only']) =>
      db.transaction(async (m) => {
        for (const t of triggers) await m.query(`ALTER TABLE audit_ledger DISABLE TRIGGER ${t}`);
        for (const statement of sql) await m.query(statement);
        for (const t of triggers) await m.query(`ALTER TABLE audit_ledger ENABLE TRIGGER ${t}`);
      });
    const intact = async () => {
      const run = await verify();
      expect(run.stdout).toMatch(/^audit chain intact: \d+ rows verified/);
      expect(run.code).toBe(0);
    };

    it('is refused while the append-only rule holds', async () => {
      await expect(db.query("UPDATE audit_ledger SET outcome = 'allowed'")).rejects.toThrow(
        'the audit ledger is append-only: UPDATE of audit_ledger is refused',
      );
      await intact();
    });

    it('names a changed row, then passes once it is put back', async () => {
      const [row] = await newest(3);
      const s = Number(row!['sequence']);
      // Whatever the row's decision was (other runs' events arrive too), it becomes another.
      const changed = row!['decision'] === 'allowed' ? 'refused' : 'allowed';
      await asOwner([`UPDATE audit_ledger SET decision = '${changed}' WHERE sequence = ${s}`]);
      const run = await verify();
      expect(run.code).toBe(4);
      expect(run.stdout.split('\n')[0]).toBe(
        `audit chain BROKEN at row ${s} (broken): row ${s} was changed after it was written: its content does not match its hash`,
      );
      await asOwner([
        `UPDATE audit_ledger SET decision = ${row!['decision'] === null ? 'NULL' : `'${String(row!['decision'])}'`} WHERE sequence = ${s}`,
      ]);
      await intact();
    });

    it('names a deleted row, then passes once it is restored', async () => {
      const [row] = await newest(3);
      const s = Number(row!['sequence']);
      await asOwner([`DELETE FROM audit_ledger WHERE sequence = ${s}`]);
      const run = await verify();
      expect(run.code).toBe(4);
      expect(run.stdout.split('\n')[0]).toBe(
        `audit chain BROKEN at row ${s} (missing): row ${s} is missing: no row holds that sequence (deleted?)`,
      );
      const columns = Object.keys(row!);
      await db.transaction(async (m) => {
        await m.query('ALTER TABLE audit_ledger DISABLE TRIGGER USER');
        await m.query(
          `INSERT INTO audit_ledger (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          columns.map((c) => row![c]),
        );
        await m.query('ALTER TABLE audit_ledger ENABLE TRIGGER USER');
      });
      await intact();
    });

    it('names two swapped rows, then passes once they are swapped back', async () => {
      const [a, b] = await newest(3);
      const [x, y] = [Number(a!['sequence']), Number(b!['sequence'])];
      const swap = [
        `UPDATE audit_ledger SET sequence = ${x + 1e12} WHERE sequence = ${x}`,
        `UPDATE audit_ledger SET sequence = ${x} WHERE sequence = ${y}`,
        `UPDATE audit_ledger SET sequence = ${y} WHERE sequence = ${x + 1e12}`,
      ];
      await asOwner(swap);
      const run = await verify();
      expect(run.code).toBe(4);
      expect(run.stdout.split('\n')[0]).toBe(
        `audit chain BROKEN at row ${x} (reordered): rows ${x} and ${y} are swapped: each is intact but stored in the other's place`,
      );
      await asOwner(swap);
      await intact();
    });

    it('names all three at once, the first one first', async () => {
      const rows = await newest(6);
      const seq = rows.map((r) => Number(r['sequence']));
      await asOwner([
        `UPDATE audit_ledger SET tenant = 'mallory' WHERE sequence = ${seq[0]}`,
        `DELETE FROM audit_ledger WHERE sequence = ${seq[2]}`,
        `UPDATE audit_ledger SET sequence = ${seq[4]! + 1e12} WHERE sequence = ${seq[4]}`,
        `UPDATE audit_ledger SET sequence = ${seq[4]} WHERE sequence = ${seq[5]}`,
        `UPDATE audit_ledger SET sequence = ${seq[5]} WHERE sequence = ${seq[4]! + 1e12}`,
      ]);
      const run = await toolbus(['audit', 'verify', '--json'], {
        TOOLBUS_ORCHESTRATOR_URL: ledger.url,
        TOOLBUS_TOKEN: readAll,
      });
      expect(run.code).toBe(4);
      const verdict = JSON.parse(run.stdout) as {
        findings: Array<{ kind: string; sequence: number }>;
      };
      expect(verdict.findings.map((f) => [f.kind, f.sequence])).toEqual([
        ['broken', seq[0]],
        ['missing', seq[2]],
        ['reordered', seq[4]],
      ]);
      expect(JSON.parse(run.stdout)).toMatchObject({ first: { kind: 'broken', sequence: seq[0] } });
    });

    it('lets the chain be verified without any key: the chain page holds ciphertext', async () => {
      const page = AuditChainPage.parse((await get('/v1/audit/chain?limit=5', readAll)).body);
      const row: ChainRow = page.items[0]!;
      expect(row.record).toHaveProperty('sealed');
      expect(JSON.stringify(row.record)).not.toContain('Alice Liddell');
    });
  });
});
