import { Messages, platformTopics, Topics } from '@toolbus/contracts';
import { createMemoryBus, MemoryBroker, type MessageBus } from '@toolbus/messaging';
import { createLogger, renderMetrics } from '@toolbus/observability';
import { openDatabase, type DataSource } from '@toolbus/persistence';
import { waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryMigrations } from '../database/migrations/index.js';
import { enqueue, OutboxRelay } from './outbox.js';

const logger = createLogger({ name: 'outbox-test', level: 'silent' });

describe('the outbox relay', () => {
  let db: DataSource;
  let bus: MessageBus;
  const seen: Array<{ key: string | null; value: unknown }> = [];

  beforeAll(async () => {
    db = await openDatabase({
      url: 'pglite://memory',
      schema: 'outbox_test',
      migrations: registryMigrations,
      logger,
    });
    bus = createMemoryBus({ serviceName: 'outbox-test', logger, broker: new MemoryBroker() });
    await bus.ensureTopics(platformTopics());
    await bus.subscribe(
      { topic: Topics.registryChanges, groupId: 'outbox-test-reader' },
      async (m) => {
        seen.push({ key: m.key, value: m.value });
      },
    );
  }, 30_000);
  afterAll(async () => {
    await bus?.close();
    await db?.destroy();
  });

  it('keeps committed events while Kafka refuses them and publishes them in order once it answers', async () => {
    let down = true;
    // The bus is the relay's port: this one fails like an unreachable broker until told not to.
    const flaky: Pick<MessageBus, 'publish'> = {
      publish: async (topic, message) => {
        if (down) throw new Error('broker unreachable');
        return bus.publish(topic, message);
      },
    };
    const relay = new OutboxRelay(db, flaky, logger, 60_000);
    await db.transaction((tx) =>
      enqueue(
        tx,
        [1, 2, 3].map((n) => ({
          topic: Topics.registryChanges,
          key: 'get_limit',
          type: Messages.registryChanged.type,
          payload: { n },
        })),
      ),
    );
    relay.kick();
    await waitFor(
      async () => /toolbus_registry_outbox_pending 3/.test((await renderMetrics()).body),
      {
        what: 'the failed run to report three pending events',
      },
    );
    expect(seen).toEqual([]);

    down = false;
    relay.kick();
    await relay.flush();
    await waitFor(() => seen.length === 3, { what: 'the three events' });
    expect(seen.map((e) => e.value)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(seen.every((e) => e.key === 'get_limit')).toBe(true);
    expect((await renderMetrics()).body).toMatch(/^toolbus_registry_outbox_pending 0$/m);
    await relay.stop();
  });
});
