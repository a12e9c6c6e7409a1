import { Writable } from 'node:stream';
import { Topics, type AuditEvent } from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { AuditPublisher } from './audit-publisher.js';

const principal = { subject: 'alice', kind: 'user' as const, tenant: 'acme', scopes: [] };
const failure = { class: 'internal' as const, code: 'x', message: 'broke', retryable: false };

/** A bus whose every publish waits until the test acknowledges (or fails) it. */
function heldBus() {
  const held: Array<{
    topic: string;
    event: AuditEvent;
    ack: () => void;
    fail: (e: Error) => void;
  }> = [];
  const bus: Pick<MessageBus, 'publish'> = {
    publish: (topic, message) =>
      new Promise<void>((ack, fail) =>
        held.push({ topic, event: message.value as AuditEvent, ack, fail }),
      ),
  };
  return { bus, held };
}

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    name: 'audit-test',
    level: 'error',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { logger, lines };
}

const failed = (p: AuditPublisher, i: number) =>
  p.askFailed(principal, { contextId: `ctx-00000${i}`, askId: `ask-00000${i}` }, failure, 1);

describe('AuditPublisher', () => {
  it('answers before Kafka acknowledges, and drain waits for every event', async () => {
    const { bus, held } = heldBus();
    const publisher = new AuditPublisher(bus, logged().logger);
    await failed(publisher, 1);
    await failed(publisher, 2);
    expect(held.map((h) => [h.topic, h.event.resource.id])).toEqual([
      [Topics.audit, 'ask-000001'],
      [Topics.audit, 'ask-000002'],
    ]);
    expect(publisher.inFlight).toBe(2);
    let drained = false;
    const draining = publisher.drain().then(() => (drained = true));
    held[0]!.ack();
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    held[1]!.ack();
    await draining;
    expect(publisher.inFlight).toBe(0);
  });

  it('holds the caller back once too many are unacknowledged', async () => {
    const { bus, held } = heldBus();
    const publisher = new AuditPublisher(bus, logged().logger, { maxPending: 2 });
    await failed(publisher, 1);
    await failed(publisher, 2);
    let third = false;
    const waiting = failed(publisher, 3).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    held[2]!.ack();
    await waiting;
    expect(publisher.inFlight).toBe(2);
  });

  it('logs a publication that fails, and neither the call nor drain fails with it', async () => {
    const { bus, held } = heldBus();
    const { logger, lines } = logged();
    const publisher = new AuditPublisher(bus, logger);
    await failed(publisher, 1);
    held[0]!.fail(new Error('broker away'));
    await publisher.drain();
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'audit event could not be published',
        action: 'ask.answer',
        err: expect.objectContaining({ message: 'broker away' }),
      }),
    ]);
  });
});
