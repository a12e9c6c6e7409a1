// `make bench` for the message bus: request-reply latency at a fixed rate, request-reply
// throughput, and one-way throughput, over real Kafka on loopback and the in-memory bus, with
// a direct async function call as the baseline measured in the same run.
// eslint-disable-next-line @nx/enforce-module-boundaries -- benchmarks run the built package
import { createKafkaBus, createMemoryBus, MemoryBroker } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import kafkajs from 'kafkajs';
import { randomBytes } from 'node:crypto';

const RATE = Number(process.env.BENCH_RATE ?? 500); // requests per second for the latency run
const LATENCY_SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_RR_COUNT ?? 5_000);
const ONE_WAY = Number(process.env.BENCH_ONE_WAY ?? 20_000);
const TYPE = 'dev.toolbus.bench.echo.v1';
const logger = createLogger({ name: 'bench', level: 'warn' });
const name = (p) => `bench-${p}-${randomBytes(3).toString('hex')}`;

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const stats = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: pct(s, 50), p99: pct(s, 99) };
};

/** Fires `call` at a fixed rate (open loop) and measures each round trip. */
async function atRate(call, rate, seconds) {
  const total = rate * seconds;
  const gap = 1000 / rate;
  const samples = [];
  const started = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * gap;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    inflight.push(call(i).then(() => samples.push(performance.now() - t)));
  }
  await Promise.all(inflight);
  // Drop the first second: connection set-up and JIT warm-up are not the steady state.
  return stats(samples.slice(rate));
}

/** Closed loop with `concurrency` callers: how many round trips per second. */
async function throughput(call, count, concurrency = 64) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function oneWay(bus, topic) {
  let received = 0;
  let done;
  const all = new Promise((r) => (done = r));
  const sub = await bus.subscribe({ topic, groupId: name('ow'), concurrency: 64 }, async () => {
    if (++received === ONE_WAY) done();
  });
  const started = performance.now();
  for (let i = 0; i < ONE_WAY; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, ONE_WAY - i) }, (_, j) =>
        bus.publish(topic, { type: TYPE, value: { n: i + j } }),
      ),
    );
  }
  await all;
  const rate = ONE_WAY / ((performance.now() - started) / 1000);
  await sub.stop(1000);
  return rate;
}

async function benchBus(label, makeBus, createTopics) {
  const requests = name('rq');
  const replies = name('rp');
  const stream = name('ow');
  await createTopics([
    { name: requests, partitions: 4 },
    { name: replies, partitions: 4 },
    { name: stream, partitions: 4 },
    ...[requests, replies, stream].map((t) => ({ name: `${t}.dlq`, partitions: 1 })),
  ]);
  const server = makeBus('bench-responder');
  const client = makeBus('bench-caller');
  await server.respond(
    { topic: requests, groupId: name('resp'), concurrency: 64, replyTopics: [replies] },
    async (m) => ({ type: TYPE, value: m.value }),
  );
  await client.prepareReplies(replies);
  const call = (i) =>
    client.request(
      requests,
      { type: TYPE, key: `k${i % 64}`, value: { i } },
      { replyTopic: replies, timeoutMs: 10_000 },
    );
  for (let i = 0; i < 200; i++) await call(i); // warm-up
  const latency = await atRate(call, RATE, LATENCY_SECONDS);
  const rr = await throughput(call, THROUGHPUT_REQUESTS);
  const ow = await oneWay(client, stream);
  await Promise.all([client.close(2000), server.close(2000)]);
  return { label, ...latency, rr, ow };
}

async function main() {
  const rows = [];
  const echo = async (i) => ({ i });
  const direct = await atRate((i) => echo(i), RATE, 2);
  rows.push({
    label: 'direct function call (baseline)',
    ...direct,
    rr: await throughput(echo, 1_000_000),
    ow: NaN,
  });

  const broker = new MemoryBroker();
  rows.push(
    await benchBus(
      'in-memory bus',
      (s) => createMemoryBus({ serviceName: s, broker, logger }),
      async (specs) => specs.forEach((s) => broker.createTopic(s)),
    ),
  );

  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0)
    throw new Error('KAFKA_BROKERS is not set: run `make bench`, which starts Kafka');
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  const created = [];
  rows.push(
    await benchBus(
      'Kafka bus (loopback, acks=all)',
      (s) =>
        createKafkaBus({
          serviceName: s,
          brokers,
          logger,
          ...(process.env.BENCH_MAX_WAIT
            ? { maxWaitTimeMs: Number(process.env.BENCH_MAX_WAIT) }
            : {}),
        }),
      async (specs) => {
        await admin.createTopics({
          waitForLeaders: true,
          topics: specs.map((s) => ({ topic: s.name, numPartitions: s.partitions })),
        });
        created.push(...specs.map((s) => s.name));
      },
    ),
  );
  await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();

  const base = rows[0];
  const f = (n, d = 3) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const line = (cells) => '| ' + cells.join(' | ') + ' |';
  console.log(
    `\nMessage bus — request-reply at ${RATE} req/s for ${LATENCY_SECONDS} s (first second dropped); Node ${process.version}\n`,
  );
  console.log(
    line([
      'path',
      'p50 ms',
      'p99 ms',
      'p50 × direct',
      'request-reply /s (64 callers)',
      'one-way msg/s',
    ]),
  );
  console.log(line(['---', '---:', '---:', '---:', '---:', '---:']));
  for (const r of rows) {
    console.log(
      line([r.label, f(r.p50), f(r.p99), f(r.p50 / base.p50, 0), f(r.rr, 0), f(r.ow, 0)]),
    );
  }
  const kafka = rows[2];
  console.log(
    `\ngoals: Kafka p50 <= 5 ms (${kafka.p50 <= 5 ? 'met' : 'MISSED'}), p99 <= 25 ms (${kafka.p99 <= 25 ? 'met' : 'MISSED'}), ` +
      `one-way >= 5,000 msg/s (${kafka.ow >= 5000 ? 'met' : 'MISSED'})`,
  );
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
