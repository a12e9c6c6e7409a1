import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendToChain,
  AuditEvent,
  verifyChain,
  type ChainHead,
  type Principal,
} from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { AuditCipher } from '@toolbus/security';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLedger, tenantAccess } from './audit-ledger.js';
import { chainRecordOf, chainRowOf, type LedgerColumns, type LedgerRow } from './ledger-record.js';
import type { Appended, LedgerFilter, LedgerStore } from './ledger-store.js';

/** The port replaced: rows in an array, chained as the PostgreSQL adapter chains them. */
class MemoryLedgerStore implements LedgerStore {
  readonly rows: LedgerRow[] = [];
  private head: ChainHead = { sequence: 0, hash: '0'.repeat(64) };

  async append(columns: LedgerColumns): Promise<Appended> {
    const existing = this.rows.find((r) => r.event_id === columns.event_id);
    if (existing) return { sequence: existing.sequence, duplicate: true };
    const row = appendToChain(this.head, chainRecordOf(columns));
    this.rows.push({ ...columns, sequence: row.sequence, prev_hash: row.prevHash, hash: row.hash });
    this.head = { sequence: row.sequence, hash: row.hash };
    return { sequence: row.sequence, duplicate: false };
  }

  async list(filter: LedgerFilter): Promise<LedgerRow[]> {
    return this.rows
      .filter((r) => filter.tenant === undefined || r.tenant === filter.tenant)
      .filter((r) => filter.before === undefined || r.sequence < filter.before)
      .reverse()
      .slice(0, filter.limit);
  }

  async chain(after: number, limit: number) {
    return { head: this.head, rows: this.rows.filter((r) => r.sequence > after).slice(0, limit) };
  }
}

const keysDir = mkdtempSync(join(tmpdir(), 'audit-keys-'));
afterAll(() => rmSync(keysDir, { recursive: true, force: true }));
const mountKey = (id: string) =>
  writeFileSync(join(keysDir, id), randomBytes(32).toString('base64'));
mountKey('k1');
mountKey('k2');

const logger = createLogger({ name: 'ledger-test', level: 'silent' });
function ledger(keyId: string, store = new MemoryLedgerStore(), keepArguments = false) {
  const cipher = new AuditCipher({ keysDir, currentKeyId: keyId });
  return { store, ledger: new AuditLedger(store, cipher, { keepArguments, pageLimit: 2 }, logger) };
}

const principal = (tenant: string, scopes: string[]): Principal => ({
  subject: 'reader',
  kind: 'user',
  tenant,
  scopes,
});
const event = (tenant: string, over: Partial<AuditEvent> = {}): AuditEvent =>
  AuditEvent.parse({
    id: crypto.randomUUID(),
    at: '2026-03-01T10:00:00Z',
    actor: { subject: 'alice', kind: 'user', tenant, scopes: [], displayName: 'Alice Liddell' },
    action: 'tool.call',
    resource: { kind: 'tool', id: 'get_credit_limit@1.0.0' },
    outcome: 'denied',
    tenant,
    reason: 'over the quota of get_credit_limit',
    details: {
      decision: 'refused',
      argumentsHash: 'ih-123',
      arguments: { customer_id: 'acme-corp-7' },
    },
    ...over,
  });

describe('tenantAccess', () => {
  it.each([
    [['audit:read'], undefined, { tenant: 'acme' }],
    [['audit:read'], 'acme', { tenant: 'acme' }],
    [['audit:*'], 'globex', { tenant: 'globex' }],
    [['audit:read_all'], undefined, { tenant: undefined }],
    [['audit:read_all'], 'globex', { tenant: 'globex' }],
  ])('scopes %j asking for tenant %s → %j', (scopes, requested, expected) => {
    expect(tenantAccess(principal('acme', scopes), requested)).toEqual(expected);
  });

  it("refuses a tenant reader another tenant's rows, naming the scope that would allow it", () => {
    expect(tenantAccess(principal('acme', ['audit:read']), 'globex')).toEqual({
      refusal:
        "audit:read reads only your own tenant's rows (acme); tenant globex needs audit:read_all",
    });
  });

  it('refuses a caller with neither scope', () => {
    expect(tenantAccess(principal('acme', ['registry:read']), undefined)).toEqual({
      refusal: 'reading the audit ledger needs the scope audit:read',
    });
  });
});

describe('AuditLedger', () => {
  it('seals who and why at rest, and opens them for a reader', async () => {
    const { store, ledger: l } = ledger('k1');
    await l.record(event('acme'), '/toolbus/orchestrator');
    const stored = JSON.stringify(store.rows);
    for (const secret of ['Alice Liddell', 'over the quota', 'ih-123', 'acme-corp-7'])
      expect(stored).not.toContain(secret);
    const page = await l.list({}, 'acme');
    expect(page.items[0]).toMatchObject({
      actor: { subject: 'alice', displayName: 'Alice Liddell' },
      reason: 'over the quota of get_credit_limit',
      argumentsHash: 'ih-123',
      decision: 'refused',
      tool: 'get_credit_limit',
      source: '/toolbus/orchestrator',
      keyId: 'k1',
    });
    expect(page.items[0]).not.toHaveProperty('arguments');
  });

  it('keeps the arguments, sealed, when configured', async () => {
    const { store, ledger: l } = ledger('k1', new MemoryLedgerStore(), true);
    await l.record(event('acme'), '/x');
    expect(JSON.stringify(store.rows)).not.toContain('acme-corp-7');
    expect((await l.list({}, 'acme')).items[0]?.arguments).toEqual({ customer_id: 'acme-corp-7' });
  });

  it('records a redelivered event once', async () => {
    const { store, ledger: l } = ledger('k1');
    const e = event('acme');
    expect(await l.record(e, '/x')).toEqual({ sequence: 1, duplicate: false });
    expect(await l.record(e, '/x')).toEqual({ sequence: 1, duplicate: true });
    expect(store.rows).toHaveLength(1);
  });

  it('reads rows sealed before a key rotation with the key they name', async () => {
    const before = ledger('k1');
    await before.ledger.record(event('acme', { reason: 'before rotation' }), '/x');
    const after = ledger('k2', before.store);
    await after.ledger.record(event('acme', { reason: 'after rotation' }), '/x');
    const { items } = await after.ledger.list({}, 'acme');
    expect(items.map((i) => [i.keyId, i.reason])).toEqual([
      ['k2', 'after rotation'],
      ['k1', 'before rotation'],
    ]);
  });

  it('says which rows cannot be opened (a retired key unmounted) and answers their plaintext', async () => {
    mountKey('k3');
    const { store, ledger: l } = ledger('k3');
    await l.record(event('acme'), '/x');
    rmSync(join(keysDir, 'k3'));
    const [entry] = (await ledger('k1', store).ledger.list({}, 'acme')).items;
    expect(entry).toMatchObject({ tool: 'get_credit_limit', decision: 'refused', keyId: 'k3' });
    expect(entry?.undecryptable).toMatch(/audit key "k3" is not mounted/);
    expect(entry).not.toHaveProperty('reason');
  });

  it('does not open a sealed value copied from another row', async () => {
    const { store, ledger: l } = ledger('k1');
    await l.record(event('acme', { reason: 'first' }), '/x');
    await l.record(event('acme', { reason: 'second' }), '/x');
    store.rows[1]!.sealed = store.rows[0]!.sealed;
    const [copied] = (await l.list({}, 'acme')).items;
    expect(copied?.undecryptable).toMatch(/authentication failed/);
  });

  it('fails to record while the current key is not mounted, so the event is retried', async () => {
    const { store, ledger: l } = ledger('missing');
    await expect(l.record(event('acme'), '/x')).rejects.toThrow(
      /audit key "missing" is not mounted/,
    );
    expect(store.rows).toHaveLength(0);
  });

  it('pages: at most the page limit, then the cursor of the next older page', async () => {
    const { ledger: l } = ledger('k1');
    for (let i = 0; i < 3; i++) await l.record(event('acme'), '/x');
    const first = await l.list({ limit: 50 }, 'acme');
    expect(first.items.map((i) => i.sequence)).toEqual([3, 2]);
    expect(first.nextCursor).toBe('2');
    const second = await l.list({ cursor: 2 }, 'acme');
    expect(second).toMatchObject({ items: [{ sequence: 1 }], nextCursor: null });
  });

  it('answers the chain as stored, ciphertext and all, and it verifies', async () => {
    const { store, ledger: l } = ledger('k1');
    for (const tenant of ['acme', 'globex', 'acme']) await l.record(event(tenant), '/x');
    const page = await l.chain({});
    expect(page.items).toEqual(store.rows.map(chainRowOf));
    expect(page.nextAfter).toBeNull();
    expect(verifyChain(page.items, { head: page.head })).toMatchObject({ ok: true, rows: 3 });
  });
});
