// `make bench` for the tool SDK: a no-op tool called through Kafka (the bus's request-reply to
// tool_requests.<service>) and over HTTP (POST /tools/<name>:invoke), against a direct call of
// the same handler and a bare Node HTTP handler, all in the same run. Dedup records go to the
// real PostgreSQL, as in production.
/* eslint-disable @nx/enforce-module-boundaries -- benchmarks run the built packages, as a deployed consumer does */
import { Messages, toolRequestsTopic, Topics } from '@toolbus/contracts';
import { createKafkaBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { defineTool, runToolConsumer } from '@toolbus/tool-sdk';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { z } from 'zod';

const N = Number(process.env.BENCH_TOOL_CALLS ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_TOOL_CONCURRENCY ?? 32);
const logger = createLogger({ name: 'tool-bench', level: 'warn' });
const id = () => randomBytes(8).toString('hex');
const principal = { subject: 'bench', kind: 'service', tenant: 'bench', scopes: [] };

const noop = defineTool({
  name: 'noop',
  title: 'No-op',
  description: 'Returns its input; measures the SDK, not a tool.',
  input: z.object({ n: z.number().int() }),
  output: z.object({ n: z.number().int() }),
  scopes: [],
  sync: true,
  handler: async (input) => ({ n: input.n }),
});

const pct = (s, p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];

/** Sequential calls for latency (after a warm-up), then concurrent calls for throughput. */
async function measure(call) {
  for (let i = 0; i < 200; i++) await call(i);
  const samples = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await call(i);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await call(next++);
    }),
  );
  return {
    p50: pct(samples, 50),
    p99: pct(samples, 99),
    rate: N / ((performance.now() - started) / 1000),
  };
}

async function main() {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  const databaseUrl = process.env.DATABASE_URL;
  if (!brokers.length || !databaseUrl)
    throw new Error('KAFKA_BROKERS and DATABASE_URL must be set: run `make bench`');
  const service = `bench-${id().slice(0, 6)}`;
  const consumer = await runToolConsumer({
    service,
    tools: [noop],
    env: {
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: service.replace(/-/g, '_'),
      PORT: '0',
      LOG_LEVEL: 'warn',
      TOOL_CONCURRENCY: '64',
    },
    logger,
    handleSignals: false,
  });
  const caller = createKafkaBus({
    serviceName: `bench-caller-${id().slice(0, 6)}`,
    brokers,
    logger,
  });
  await caller.prepareReplies(Topics.toolResponses);

  const rows = [];
  rows.push(['direct handler call (baseline)', await measure((n) => noop.handler({ n }, {}))]);

  const bare = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ output: JSON.parse(body).input }));
    });
  });
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${bare.address().port}/`;
  const post = (url, n) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-toolbus-timeout-ms': '5000' },
      body: JSON.stringify({
        callId: id(),
        idempotencyKey: `bench-${id()}`,
        input: { n },
        principal,
        tenant: 'bench',
        region: 'eu',
      }),
    }).then((r) => r.json());
  rows.push(['bare Node HTTP handler', await measure((n) => post(bareUrl, n))]);
  rows.push([
    'SDK over HTTP (validation, dedup in PostgreSQL)',
    await measure((n) => post(`${consumer.url}/tools/noop:invoke`, n)),
  ]);
  rows.push([
    'SDK over Kafka (request-reply, dedup in PostgreSQL)',
    await measure((n) =>
      caller.request(
        toolRequestsTopic(service),
        {
          type: Messages.toolCallRequested.type,
          key: `k${n % 64}`,
          value: {
            callId: id(),
            idempotencyKey: `bench-${id()}`,
            tool: 'noop',
            input: { n },
            principal,
            tenant: 'bench',
            region: 'eu',
            deadline: new Date(Date.now() + 10_000).toISOString(),
          },
        },
        { replyTopic: Topics.toolResponses, timeoutMs: 10_000 },
      ),
    ),
  ]);

  const base = rows[0][1];
  const bareHttp = rows[1][1];
  const f = (n, d = 3) => n.toFixed(d);
  const line = (cells) => '| ' + cells.join(' | ') + ' |';
  console.log(
    `\nTool SDK — no-op tool, ${N} sequential calls for latency, ${CONCURRENCY} concurrent callers for throughput; Node ${process.version}\n`,
  );
  console.log(line(['path', 'p50 ms', 'p99 ms', 'p50 × direct', 'calls/s']));
  console.log(line(['---', '---:', '---:', '---:', '---:']));
  for (const [label, r] of rows)
    console.log(line([label, f(r.p50), f(r.p99), f(r.p50 / base.p50, 0), f(r.rate, 0)]));
  const kafka = rows[3][1];
  const http = rows[2][1];
  console.log(
    `\ngoals: Kafka p50 <= 5 ms (${kafka.p50 <= 5 ? 'met' : 'MISSED'}: ${f(kafka.p50, 2)}), ` +
      `HTTP adds <= 1 ms p50 over a bare handler (${http.p50 - bareHttp.p50 <= 1 ? 'met' : 'MISSED'}: +${f(http.p50 - bareHttp.p50, 2)} ms)`,
  );
  await consumer.db
    .query(`DROP SCHEMA IF EXISTS "${service.replace(/-/g, '_')}" CASCADE`)
    .catch(() => undefined);
  await caller.close(1000);
  await consumer.close();
  bare.close();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
