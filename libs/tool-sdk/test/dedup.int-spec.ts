import type { Principal, ToolCallRequested } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { openDatabase, type MigrationInterface, type QueryRunner } from '@toolbus/persistence';
import {
  completedOf,
  deferred,
  failureOf,
  infraFromEnv,
  toolCall,
  uniqueName,
  waitFor,
  type Deferred,
} from '@toolbus/testing';
import {
  consumerTestEnv,
  startToolCaller,
  withTestGrant,
  type ToolCaller,
} from '@toolbus/testing-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CreateToolCallDedup1732406400000,
  DedupRetention,
  defineTool,
  runToolConsumer,
  type RunningToolConsumer,
} from '../src/index.js';

class CreateNotes1732406400002 implements MigrationInterface {
  name = 'CreateNotes1732406400002';
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL, tenant text NOT NULL)',
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notes');
  }
}

/** Deliveries the test holds inside their transaction, by call id, until it lets them go. */
const gates = new Map<string, Deferred<void>>();
let runs = 0;
const noteTool = (name: string, timeoutMs: number) =>
  defineTool({
    name,
    title: name,
    description: 'Adds a note in the tenant and answers with its id, who wrote it and for whom.',
    input: z.object({ text: z.string() }),
    output: z.object({
      note_id: z.number(),
      tenant: z.string(),
      by: z.string(),
      deadline: z.number(),
    }),
    scopes: ['notes:write'],
    timeoutMs,
    handler: async ({ text }, ctx) => {
      runs++;
      return ctx.transaction(async (em) => {
        const [row] = (await em.query(
          'INSERT INTO notes (text, tenant) VALUES ($1, $2) RETURNING id',
          [text, ctx.tenant],
        )) as Array<{ id: number }>;
        await gates.get(ctx.callId)?.promise;
        return {
          note_id: row!.id,
          tenant: ctx.tenant,
          by: ctx.principal.subject,
          deadline: ctx.deadline,
        };
      });
    },
  });

const person = (subject: string, tenant: string): Principal => ({
  subject,
  kind: 'user',
  tenant,
  scopes: ['notes:write'],
});
const alice = person('alice', 'acme');

describe('dedup records and claims (real Kafka and PostgreSQL)', () => {
  const service = uniqueName('dedup')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 30);
  const schema = service.replace(/-/g, '_');
  const logger = createLogger({
    name: 'dedup-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  const legacyKey = uniqueName('legacy-key');
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    // A record written before dedup keys were scoped by tenant, as an upgraded consumer has.
    const before = await openDatabase({
      url: infraFromEnv().databaseUrl,
      schema,
      migrations: [CreateToolCallDedup1732406400000],
    });
    await before.query(
      `INSERT INTO tool_call_dedup (idempotency_key, tool, input_hash, status, result, owner, lease_until)
       VALUES ($1, 'slow_note', 'old-hash', 'completed', '{"note_id": -1}', 'old', now())`,
      [legacyKey],
    );
    await before.destroy();
    consumer = await runToolConsumer(
      {
        service,
        tools: [noteTool('slow_note', 30_000), noteTool('quick_note', 300)],
        migrations: [CreateNotes1732406400002],
      },
      { env: consumerTestEnv(schema), logger },
    );
    caller = await startToolCaller({ logger, name: 'dedup-caller' });
  });
  afterAll(async () => {
    for (const gate of gates.values()) gate.resolve();
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await consumer?.close();
  });

  const call = (
    options: {
      key?: string;
      principal?: Principal;
      deadlineMs?: number;
      callId?: string;
      text?: string;
    } = {},
    tool = 'slow_note',
  ): ToolCallRequested =>
    toolCall(
      tool,
      { text: options.text ?? uniqueName('note') },
      {
        key: options.key,
        callId: options.callId,
        principal: options.principal ?? alice,
        deadlineMs: options.deadlineMs ?? 20_000,
      },
    );
  const send = (c: ToolCallRequested) => caller.call(service, c, { timeoutMs: 40_000 });
  /**
   * A delivery straight to the runtime, as another replica's would be: over Kafka, deliveries
   * of one key share a partition and so reach one instance one after the other.
   */
  const deliver = async (c: ToolCallRequested) =>
    consumer.runtime.invoke(await withTestGrant(service, c), 'kafka');
  /** Delivers `c` and holds it inside its transaction until `gate.resolve()`. */
  const deliverHeld = (c: ToolCallRequested) => {
    const gate = deferred();
    gates.set(c.callId, gate);
    return { answer: deliver(c), gate };
  };
  const row = async (key: string, tenant = 'acme') =>
    (
      (await consumer.db.query(
        `SELECT owner, status, attempts, lease_until, extract(epoch from lease_until) * 1000 AS lease_ms
         FROM tool_call_dedup WHERE tenant = $1 AND idempotency_key = $2`,
        [tenant, key],
      )) as Array<{ owner: string; status: string; attempts: number; lease_ms: string }>
    )[0];
  const notes = async (text: string) =>
    (
      (await consumer.db.query('SELECT tenant FROM notes WHERE text = $1 ORDER BY id', [
        text,
      ])) as Array<{
        tenant: string;
      }>
    ).map((r) => r.tenant);
  const running = (key: string) =>
    waitFor(async () => (await row(key))?.status === 'running', { what: `${key} to be claimed` });

  it("gives another tenant reusing a key its own execution, never the first tenant's result", async () => {
    const key = uniqueName('shared-key');
    const text = uniqueName('note');
    const a = completedOf(await send(call({ key, text })));
    const b = completedOf(await send(call({ key, text, principal: person('bob', 'globex') })));
    expect(a.output).toMatchObject({ tenant: 'acme', by: 'alice' });
    expect(b).toMatchObject({ deduplicated: false, output: { tenant: 'globex', by: 'bob' } });
    expect((b.output as { note_id: number }).note_id).not.toBe(
      (a.output as { note_id: number }).note_id,
    );
    const again = completedOf(await send(call({ key, text })));
    expect(again).toMatchObject({ deduplicated: true, output: a.output });
    expect(await notes(text)).toEqual(['acme', 'globex']);
  });

  it('refuses a key reused by another principal of the same tenant', async () => {
    const key = uniqueName('key');
    const text = uniqueName('note');
    completedOf(await send(call({ key, text })));
    expect(
      failureOf(await send(call({ key, text, principal: person('carol', 'acme') }))),
    ).toMatchObject({
      class: 'validation',
      code: 'idempotency_key_reused',
    });
    expect(await notes(text)).toEqual(['acme']);
  });

  it('answers no new call from a record written before keys were scoped by tenant', async () => {
    expect(
      await consumer.db.query('SELECT tenant FROM tool_call_dedup WHERE idempotency_key = $1', [
        legacyKey,
      ]),
    ).toEqual([{ tenant: '' }]);
    const fresh = completedOf(await send(call({ key: legacyKey })));
    expect(fresh).toMatchObject({ deduplicated: false, output: { tenant: 'acme' } });
  });

  it("caps a far-future deadline at the tool's timeout plus grace, so it cannot hold a lease for hours", async () => {
    const c = call({ deadlineMs: 3_600_000 }, 'quick_note');
    const sent = Date.now();
    const { answer, gate } = deliverHeld(c);
    await running(c.idempotencyKey);
    // quick_note's timeout (300 ms) + grace (1 s) + the lease's grace (5 s), not an hour.
    expect(Number((await row(c.idempotencyKey))!.lease_ms)).toBeLessThan(sent + 10_000);
    expect(failureOf(await answer)).toMatchObject({
      class: 'timeout',
      code: 'deadline_exceeded',
      retryable: true,
    });
    expect(Date.now() - sent).toBeLessThan(10_000);
    gate.resolve();
    // Released for a retry; the late effect rolled back.
    await waitFor(async () => (await row(c.idempotencyKey)) === undefined, {
      what: 'the claim released',
    });
    expect(await notes(c.input['text'] as string)).toEqual([]);
  });

  it("lets another delivery take over once a crashed holder's lease lapses", async () => {
    const c = call();
    const first = deliverHeld(c);
    await running(c.idempotencyKey);
    // What a holder that died leaves behind: a running claim nobody renews, leased a little longer.
    await consumer.db.query(
      `UPDATE tool_call_dedup SET owner = 'crashed-holder', lease_until = now() + interval '800 milliseconds'
       WHERE tenant = 'acme' AND idempotency_key = $1`,
      [c.idempotencyKey],
    );
    const started = Date.now();
    const redelivered = completedOf(await deliver({ ...c, callId: uniqueName('redelivery') }));
    expect(redelivered).toMatchObject({ deduplicated: false, output: { tenant: 'acme' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500); // it waited for the lease
    expect(await row(c.idempotencyKey)).toMatchObject({ status: 'completed', attempts: 2 });
    // The orphaned delivery in this process cannot record a second effect.
    first.gate.resolve();
    expect(failureOf(await first.answer)).toMatchObject({ code: 'claim_lost' });
    expect(await notes(c.input['text'] as string)).toEqual(['acme']);
  });

  it('answers claim_lost to a slow holder whose lease was taken over, and rolls its effect back', async () => {
    const c = call();
    const slow = deliverHeld(c);
    await running(c.idempotencyKey);
    const before = runs;
    // The holder stalled (a pause, a partition) past its lease: its renewals never landed.
    await consumer.db.query(
      `UPDATE tool_call_dedup SET lease_until = now() - interval '1 second' WHERE tenant = 'acme' AND idempotency_key = $1`,
      [c.idempotencyKey],
    );
    const taker = completedOf(await deliver({ ...c, callId: uniqueName('taker') }));
    expect(runs - before).toBe(1);
    slow.gate.resolve();
    expect(failureOf(await slow.answer)).toEqual({
      class: 'timeout',
      code: 'claim_lost',
      message:
        'this delivery ran past its lease and another took over; ask again with the same idempotency key',
      retryable: true,
    });
    // One effect: the taker's; the slow holder's insert rolled back with its transaction.
    expect(await notes(c.input['text'] as string)).toEqual(['acme']);
    expect(completedOf(await send({ ...c, callId: uniqueName('later') }))).toMatchObject({
      deduplicated: true,
      output: taker.output,
    });
  });

  it('answers still_running to a repeat while the first delivery runs, then the stored result', async () => {
    const c = call();
    const first = deliverHeld(c);
    await running(c.idempotencyKey);
    const before = runs;
    const impatient = await deliver({
      ...c,
      callId: uniqueName('impatient'),
      deadline: new Date(Date.now() + 700).toISOString(),
    });
    expect(failureOf(impatient)).toMatchObject({
      class: 'timeout',
      code: 'still_running',
      retryable: true,
    });
    expect(runs - before, 'the repeat ran the handler').toBe(0);
    first.gate.resolve();
    const done = completedOf(await first.answer);
    expect(completedOf(await send({ ...c, callId: uniqueName('after') }))).toMatchObject({
      deduplicated: true,
      output: done.output,
    });
  });

  it('answers a late repeat of a finished call with its stored result, and a late new call deadline_passed', async () => {
    const c = call();
    const done = completedOf(await send(c));
    // Its deadline a second ago: late, yet within the clock tolerance its grant allows.
    const late = {
      ...c,
      callId: uniqueName('late'),
      deadline: new Date(Date.now() - 1_000).toISOString(),
    };
    expect(completedOf(await send(late))).toMatchObject({
      deduplicated: true,
      output: done.output,
    });
    const before = runs;
    const never = call({ deadlineMs: -1_000 });
    expect(failureOf(await send(never))).toMatchObject({
      class: 'timeout',
      code: 'deadline_passed',
      retryable: true,
    });
    // Another principal's late repeat of the key gets no one else's result.
    expect(failureOf(await send({ ...late, principal: person('carol', 'acme') }))).toMatchObject({
      code: 'deadline_passed',
    });
    expect(runs).toBe(before);
    expect(await row(never.idempotencyKey)).toBeUndefined();
  });

  describe('retention', () => {
    const age = (keys: string[], hours: number) =>
      consumer.db.query(
        `UPDATE tool_call_dedup SET updated_at = now() - make_interval(hours => $2), lease_until = now() - make_interval(hours => $2)
         WHERE idempotency_key = ANY($1)`,
        [keys, hours],
      );
    const exists = async (keys: string[]) =>
      (
        (await consumer.db.query(
          'SELECT idempotency_key AS k FROM tool_call_dedup WHERE idempotency_key = ANY($1)',
          [keys],
        )) as Array<{ k: string }>
      )
        .map((r) => r.k)
        .sort();

    it('deletes finished records past retention in batches, keeps the others, and counts them', async () => {
      const calls = Array.from({ length: 5 }, () => call());
      for (const c of calls) completedOf(await send(c));
      const old = calls.slice(0, 3).map((c) => c.idempotencyKey);
      const recent = calls.slice(3).map((c) => c.idempotencyKey);
      await age(old, 200);
      // An abandoned claim as old counts too; a live one does not.
      const abandoned = uniqueName('abandoned');
      await consumer.db.query(
        `INSERT INTO tool_call_dedup (tenant, idempotency_key, tool, input_hash, status, owner, lease_until, updated_at)
         VALUES ('acme', $1, 'slow_note', 'h', 'running', 'dead', now() - interval '200 hours', now() - interval '200 hours')`,
        [abandoned],
      );
      const job = new DedupRetention(consumer.db, logger, {
        service,
        retentionHours: 168,
        intervalMs: 3_600_000,
        batchSize: 2,
      });
      expect(await job.runOnce()).toBe(4);
      expect(await exists([...old, ...recent, abandoned])).toEqual([...recent].sort());
      const metrics = await (await fetch(`${consumer.managementUrl}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`toolbus_tool_dedup_purged_total\\{service="${service}"\\} [4-9]`),
      );
    });

    it('runs on one replica at a time: a replica that finds the lock held skips its run', async () => {
      const c = call();
      completedOf(await send(c));
      await age([c.idempotencyKey], 200);
      const runner = consumer.db.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(
          `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.tool_call_dedup.retention'))`,
        );
        expect(await consumer.retention.runOnce()).toBe(0);
        expect(await exists([c.idempotencyKey])).toEqual([c.idempotencyKey]);
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
      expect(await consumer.retention.runOnce()).toBeGreaterThanOrEqual(1);
      expect(await exists([c.idempotencyKey])).toEqual([]);
    });
  });
});
