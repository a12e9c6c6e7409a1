import { AuditEvent, verifyChain } from '@toolbus/contracts';
import { NonRetryableError } from '@toolbus/messaging';
import type { DataSource } from '@toolbus/persistence';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainRowOf, unsealedRow, type LedgerColumns } from '../../src/ledger/ledger-record.js';
import { PgLedgerStore } from '../../src/ledger/ledger-store.js';

/** A migrated ledger schema the suite may fill; `close` drops what it made. */
export interface LedgerDatabase {
  db: DataSource;
  close(): Promise<void>;
}

let n = 0;

/** The columns of a fresh event; `over` changes the event first. */
export function columnsOf(over: Partial<AuditEvent> = {}): LedgerColumns {
  n++;
  const event = AuditEvent.parse({
    id: crypto.randomUUID(),
    at: new Date(Date.UTC(2026, 2, 1, 10, 0, n)).toISOString(),
    actor: { subject: 'alice', kind: 'user', tenant: 'acme', scopes: [] },
    action: 'tool.call',
    resource: { kind: 'tool', id: 'get_credit_limit@1.0.0' },
    outcome: 'succeeded',
    tenant: 'acme',
    details: { decision: 'allowed', latencyMs: n },
    ...over,
  });
  const { columns } = unsealedRow(event, {
    source: '/test',
    recordedAt: new Date(),
    keepArguments: false,
  });
  return { ...columns, key_id: 'k1', sealed: Buffer.from(`sealed ${n}`).toString('base64') };
}

/**
 * The LedgerStore contract: one suite, run against PGlite (the embedded mode, a unit test) and
 * PostgreSQL (integration), so both hold the ledger's rules the same way.
 */
export function ledgerStoreContract(name: string, open: () => Promise<LedgerDatabase>): void {
  describe(`LedgerStore on ${name}`, () => {
    let database: LedgerDatabase;
    let store: PgLedgerStore;
    const all = async () => (await store.chain(0, 10_000)).rows;

    beforeAll(async () => {
      database = await open();
      store = new PgLedgerStore(database.db);
    });
    afterAll(() => database?.close());

    it('appends rows that chain: each holds the hash of the one before, the head the last', async () => {
      const before = (await store.chain(0, 1)).head.sequence;
      const first = await store.append(columnsOf());
      const second = await store.append(columnsOf());
      expect(first).toEqual({ sequence: before + 1, duplicate: false });
      expect(second).toEqual({ sequence: before + 2, duplicate: false });
      const { head, rows } = await store.chain(0, 10_000);
      expect(rows.at(-1)!.prev_hash).toBe(rows.at(-2)!.hash);
      expect(head).toEqual({ sequence: before + 2, hash: rows.at(-1)!.hash });
      expect(verifyChain(rows.map(chainRowOf), { head })).toMatchObject({ ok: true });
    });

    it('keeps one row per event: a redelivered event finds its row and appends nothing', async () => {
      const columns = columnsOf();
      const first = await store.append(columns);
      const again = await store.append({ ...columns, recorded_at: new Date().toISOString() });
      expect(again).toEqual({ sequence: first.sequence, duplicate: true });
      expect((await all()).filter((r) => r.event_id === columns.event_id)).toHaveLength(1);
    });

    it('serializes concurrent appends on the head: no gap, no fork', async () => {
      const before = (await store.chain(0, 1)).head.sequence;
      const appended = await Promise.all(
        Array.from({ length: 12 }, () => store.append(columnsOf())),
      );
      expect(appended.map((a) => a.sequence).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 12 }, (_, i) => before + i + 1),
      );
      const { head, rows } = await store.chain(0, 10_000);
      expect(verifyChain(rows.map(chainRowOf), { head })).toMatchObject({ ok: true });
    });

    it.each([
      ['UPDATE', 'UPDATE audit_ledger SET tenant = $1', ['mallory']],
      ['DELETE', 'DELETE FROM audit_ledger WHERE tenant = $1', ['acme']],
      ['TRUNCATE', 'TRUNCATE audit_ledger', []],
    ])('refuses %s of the ledger, saying it is append-only', async (op, sql, params) => {
      const rows = await all();
      await expect(database.db.query(sql, params)).rejects.toThrow(
        `the audit ledger is append-only: ${op} of audit_ledger is refused`,
      );
      expect(await all()).toEqual(rows);
    });

    it('moves the head only by appending a row', async () => {
      const { head } = await store.chain(0, 1);
      await expect(
        database.db.query('UPDATE audit_chain_head SET sequence = sequence + 1'),
      ).rejects.toThrow('the audit chain head moves only by appending a row (UPDATE refused)');
      await expect(database.db.query('DELETE FROM audit_chain_head')).rejects.toThrow(
        'moves only by appending a row (DELETE refused)',
      );
      await expect(database.db.query('TRUNCATE audit_chain_head')).rejects.toThrow('append-only');
      expect((await store.chain(0, 1)).head).toEqual(head);
    });

    it('refuses a row that does not follow the head', async () => {
      const { head } = await store.chain(0, 1);
      const c = columnsOf();
      const columns = Object.keys(c).join(', ');
      const values = Object.keys(c).map((_, i) => `$${i + 4}`);
      await expect(
        database.db.query(
          `INSERT INTO audit_ledger (sequence, prev_hash, hash, ${columns}) VALUES ($1, $2, $3, ${values.join(', ')})`,
          [head.sequence + 5, head.hash, 'f'.repeat(64), ...Object.values(c)],
        ),
      ).rejects.toThrow(`audit row ${head.sequence + 5} does not follow the head of the chain`);
    });

    it('answers a row that can never be stored with a NonRetryableError, appending nothing', async () => {
      const { head } = await store.chain(0, 1);
      const bad = { ...columnsOf(), decision: 'maybe' } as unknown as LedgerColumns;
      const failure = store.append(bad);
      await expect(failure).rejects.toBeInstanceOf(NonRetryableError);
      await expect(failure).rejects.toThrow(`audit event ${bad.event_id} cannot be stored`);
      expect((await store.chain(0, 1)).head).toEqual(head);
    });

    it('lists rows newest first, every filter narrowing, a page at a time', async () => {
      const tenant = `t${Date.now().toString(36)}`;
      const event = (over: Partial<AuditEvent>) =>
        columnsOf({
          tenant,
          actor: { subject: 'bob', kind: 'user', tenant, scopes: [] },
          ...over,
        });
      const rows = [
        event({}),
        event({ resource: { kind: 'tool', id: 'find_customer@2.0.0' } }),
        event({ outcome: 'denied', details: { decision: 'refused' } }),
        event({ actor: { subject: 'carol', kind: 'service', tenant, scopes: [] } }),
        event({ action: 'ask.answer', resource: { kind: 'ask', id: 'ask-1' } }),
      ];
      const seq: number[] = [];
      for (const r of rows) seq.push((await store.append(r)).sequence);
      const list = async (filter: Parameters<PgLedgerStore['list']>[0]) =>
        (await store.list(filter)).map((r) => r.sequence);
      expect(await list({ tenant, limit: 10 })).toEqual([...seq].reverse());
      expect(await list({ tenant, limit: 2 })).toEqual([seq[4], seq[3]]);
      expect(await list({ tenant, before: seq[3], limit: 2 })).toEqual([seq[2], seq[1]]);
      expect(await list({ tenant, tool: 'find_customer', limit: 10 })).toEqual([seq[1]]);
      expect(await list({ tenant, decision: 'refused', limit: 10 })).toEqual([seq[2]]);
      expect(await list({ tenant, principal: 'carol', limit: 10 })).toEqual([seq[3]]);
      expect(await list({ tenant, action: 'ask.answer', limit: 10 })).toEqual([seq[4]]);
      expect(await list({ tenant, since: rows[3]!.at, limit: 10 })).toEqual([seq[4], seq[3]]);
      expect(await list({ tenant, until: rows[1]!.at, limit: 10 })).toEqual([seq[0]]);
      expect(await list({ tenant: 'nobody', limit: 10 })).toEqual([]);
    });

    it('reads the chain a page at a time after a sequence', async () => {
      const { rows } = await store.chain(0, 10_000);
      const page = await store.chain(rows[1]!.sequence, 2);
      expect(page.rows.map((r) => r.sequence)).toEqual([rows[2]!.sequence, rows[3]!.sequence]);
      expect(page.rows[0]).toEqual(rows[2]);
    });
  });
}
