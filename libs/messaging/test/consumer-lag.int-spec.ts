import { dlqTopic } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, type MessageBus } from '../src/index.js';
import { busMetrics } from '../src/core/metrics.js';

const TYPE = 'dev.toolbus.test.work.v1';

/** The group's lag, summed over its partitions, as /metrics would show it. */
async function groupLag(groupId: string): Promise<number | undefined> {
  const { values } = await busMetrics.consumerLag().get();
  const mine = values.filter((v) => v.labels['group'] === groupId);
  return mine.length ? mine.reduce((n, v) => n + v.value, 0) : undefined;
}

/** The gauge's series of one group, as (topic, group) label pairs. */
async function labelsOf(groupId: string): Promise<Array<{ topic?: string; group?: string }>> {
  const { values } = await busMetrics.consumerLag().get();
  return values
    .filter((v) => v.labels['group'] === groupId)
    .map((v) => ({ topic: v.labels['topic'] as string, group: v.labels['group'] as string }));
}

// Under a namespace the broker knows the topic and group only by their prefixed names, while
// the gauge keeps the plain names users configure (and dashboards filter on).
describe.each([
  { label: 'without a namespace', namespace: undefined },
  { label: 'under a namespace', namespace: `${uniqueName('lagns')}.` },
])('toolbus_bus_consumer_lag on real Kafka, $label', ({ namespace }) => {
  const { kafkaBrokers } = infraFromEnv();
  const wire = (name: string) => `${namespace ?? ''}${name}`;
  const admin = new kafkajs.Kafka({
    clientId: 'lag-test',
    brokers: kafkaBrokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  const created: string[] = [];
  // Released by the test once it has seen the lag; by afterAll when it failed before that, so
  // the bus can close instead of waiting on a held message.
  let release = () => {};
  let bus: MessageBus;
  beforeAll(async () => {
    await admin.connect();
    bus = createKafkaBus({
      serviceName: uniqueName('lag'),
      brokers: kafkaBrokers,
      logger: createLogger({ name: 'lag-test', level: 'silent' }),
      shutdownDeadlineMs: 5_000,
      sessionTimeoutMs: 6_000,
      consumerLagIntervalMs: 200,
      ...(namespace ? { namespace } : {}),
    });
  });
  afterAll(async () => {
    release();
    await bus.close(1_000);
    await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
  });

  it('climbs to N while a stuck consumer holds its partition, and returns to 0 once it catches up', async () => {
    const N = 25;
    const topic = uniqueName('lag-t');
    // Created by hand under the name the brokers know, so the test fixes where the lag looks.
    const onWire = [wire(topic), wire(dlqTopic(topic))];
    created.push(...onWire);
    await admin.createTopics({
      waitForLeaders: true,
      topics: onWire.map((name) => ({ topic: name, numPartitions: 1 })),
    });
    const groupId = uniqueName('g');
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    let handled = 0;
    const sub = await bus.subscribe({ topic, groupId, concurrency: 1 }, async () => {
      held++;
      await gate;
      handled++;
    });
    await bus.publish(topic, { type: TYPE, value: { n: 0 } });
    await waitFor(() => held === 1, {
      what: 'the handler to hold the first message',
      timeoutMs: 30_000,
    });
    // The partition's next batch waits for this one: only the broker's watermarks show these.
    await Promise.all(
      Array.from({ length: N - 1 }, (_, n) =>
        bus.publish(topic, { type: TYPE, value: { n: n + 1 } }),
      ),
    );
    await waitFor(async () => (await groupLag(groupId)) === N, {
      what: `the lag of ${groupId} to reach ${N}`,
      timeoutMs: 15_000,
    });
    expect(await labelsOf(groupId)).toEqual([{ topic, group: groupId }]);

    release();
    await waitFor(() => handled === N, { what: `${N} messages handled`, timeoutMs: 30_000 });
    await waitFor(async () => (await groupLag(groupId)) === 0, {
      what: `the lag of ${groupId} to return to 0`,
      timeoutMs: 15_000,
    });

    await sub.stop(2_000);
    expect(await groupLag(groupId)).toBeUndefined();
  });
});
