import { rmSync } from 'node:fs';
import { verifyChain } from '@toolbus/contracts';
import { createKafkaBus, type MessageBus } from '@toolbus/messaging';
import { rowsOf, type DataSource } from '@toolbus/persistence';
import type { RunningService } from '@toolbus/service-kit';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainRowOf, ledgerRowOf } from '../../src/ledger/ledger-record.js';
import {
  auditKeys,
  ledgerSchema,
  logger,
  ownerConnection,
  publish,
  startLedger,
  tenantId,
  toolCallEvent,
} from './ledger-support.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * No audit event is lost while PostgreSQL is away: the ledger reaches its database through a
 * proxy the test cuts, events published meanwhile wait (their offsets uncommitted), and all of
 * them land, once each, when it is back: in the same instance, and in a new one that replaced
 * an instance stopped during the outage.
 */
describe('audit ledger while PostgreSQL is away', () => {
  const schema = ledgerSchema();
  const keysDir = auditKeys('k1');
  const tenant = tenantId('outage');
  // One name, one consumer group: the second start takes over the first one's offsets.
  const name = uniqueName('ledger-outage');
  let proxy: TcpProxy;
  let ledger: RunningService<unknown> | undefined;
  let bus: MessageBus;
  let db: DataSource;

  const stored = async () =>
    rowsOf<Record<string, unknown>>(
      await db.query('SELECT event_id FROM audit_ledger WHERE tenant = $1', [tenant]),
    ).map((r) => String(r['event_id']));
  const start = () => {
    const url = new URL(infraFromEnv().databaseUrl);
    url.host = `127.0.0.1:${proxy.port}`;
    return startLedger({ name, schema, keysDir, databaseUrl: url.href });
  };
  /** Until the ledger has tried, and failed, to reach the database a few times. */
  const triedWhileDown = () =>
    waitFor(() => proxy.refused >= 3, {
      timeoutMs: 30_000,
      what: 'the ledger to keep trying PostgreSQL',
    });

  beforeAll(async () => {
    const target = new URL(infraFromEnv().databaseUrl);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    ledger = await start();
    bus = createKafkaBus({
      serviceName: uniqueName('audit-producer'),
      brokers: infraFromEnv().kafkaBrokers,
      logger,
    });
    db = await ownerConnection(schema);
  });

  afterAll(async () => {
    await bus?.close(2_000);
    await ledger?.close();
    await proxy?.close();
    await db?.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('holds the events while the database is away and stores all of them when it returns', async () => {
    const before = toolCallEvent(tenant);
    await publish(bus, before);
    await waitFor(async () => (await stored()).includes(before.id), {
      timeoutMs: 30_000,
      what: 'the first event stored',
    });
    proxy.down();
    const during = [toolCallEvent(tenant), toolCallEvent(tenant), toolCallEvent(tenant)];
    await publish(bus, ...during);
    await triedWhileDown();
    expect(await stored()).toEqual([before.id]);
    proxy.up();
    await waitFor(async () => (await stored()).length === 4, {
      timeoutMs: 30_000,
      what: 'the events of the outage stored',
    });
    expect((await stored()).sort()).toEqual([before, ...during].map((e) => e.id).sort());
  });

  it('leaves them uncommitted when the instance stops during the outage, for the next one', async () => {
    proxy.down();
    const during = [toolCallEvent(tenant), toolCallEvent(tenant), toolCallEvent(tenant)];
    await publish(bus, ...during);
    await triedWhileDown();
    // Stopped while it could store nothing: had it acknowledged them, they would be lost now.
    await ledger!.close();
    ledger = undefined;
    expect(await stored()).toHaveLength(4);
    proxy.up();
    ledger = await start();
    await waitFor(async () => (await stored()).length === 7, {
      timeoutMs: 60_000,
      what: 'the events of the stopped instance stored by its successor',
    });
    const ids = await stored();
    for (const e of during) expect(ids.filter((id) => id === e.id)).toHaveLength(1);
    // The head first, then the rows up to it: the successor may still be appending other
    // runs' events from the topic, and rows up to a head it has passed no longer change.
    const [head] = rowsOf<{ sequence: string; hash: string }>(
      await db.query('SELECT sequence, hash FROM audit_chain_head'),
    );
    const all = rowsOf<Record<string, unknown>>(
      await db.query('SELECT * FROM audit_ledger WHERE sequence <= $1 ORDER BY sequence', [
        head!.sequence,
      ]),
    ).map(ledgerRowOf);
    expect(
      verifyChain(all.map(chainRowOf), {
        head: { sequence: Number(head!.sequence), hash: head!.hash },
      }),
    ).toMatchObject({ ok: true });
  });
});
