// `make bench` for the tool SDK: a no-op tool called through Kafka (the bus's request-reply to
// tool_requests.<service>) and over HTTP (POST /tools/<name>:invoke), against a direct call of
// the same handler and a bare Node HTTP handler, all in the same run. Dedup records go to the
// real PostgreSQL, as in production.
/* eslint-disable @nx/enforce-module-boundaries -- benchmarks run the built packages, as a deployed consumer does */
import { Messages, toolRequestsTopic, Topics } from '@toolbus/contracts';
import { createKafkaBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { CallGrantSigner } from '@toolbus/security';
import { defineTool, runToolConsumer } from '@toolbus/tool-sdk';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  // Every call carries a grant the consumer verifies, as the orchestrator's do: its cost is
  // part of what a call costs.
  const keys = mkdtempSync(join(tmpdir(), 'tool-bench-'));
  const { privateKey } = generateKeyPairSync('ed25519');
  const grants = new CallGrantSigner({
    key: privateKey,
    kid: 'bench',
    issuer: 'toolbus-orchestrator',
  });
  const jwksFile = join(keys, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [grants.publicJwk()] }));
  const consumer = await runToolConsumer(
    { service, tools: [noop] },
    {
      env: {
        KAFKA_BROKERS: brokers.join(','),
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: service.replace(/-/g, '_'),
        PORT: '0',
        MANAGEMENT_PORT: '0',
        LOG_LEVEL: 'warn',
        TOOL_CONCURRENCY: '64',
        CALL_GRANT_JWKS_FILE: jwksFile,
      },
      logger,
    },
  );
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
  /** A call as the dispatcher sends it, and its grant. */
  const granted = async (n) => {
    const call = {
      callId: id(),
      idempotencyKey: `bench-${id()}`,
      tool: 'noop',
      input: { n },
      principal,
      tenant: 'bench',
      region: 'eu',
      deadline: new Date(Date.now() + 10_000).toISOString(),
    };
    return { call, grant: await grants.sign(call, service) };
  };
  /** Answers only a completed call: a refusal measured as a call would flatter the SDK. */
  const completed = (what, answer) => {
    if (answer?.output === undefined) throw new Error(`${what}: ${JSON.stringify(answer)}`);
  };
  const post = async (url, n) => {
    const { call, grant } = await granted(n);
    const { tool: _tool, deadline, ...body } = call;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${grant}`,
        'x-toolbus-deadline': deadline,
      },
      body: JSON.stringify(body),
    });
    completed(url, await res.json());
  };
  rows.push(['bare Node HTTP handler', await measure((n) => post(bareUrl, n))]);
  rows.push([
    'SDK over HTTP (validation, dedup in PostgreSQL)',
    await measure((n) => post(`${consumer.url}/tools/noop:invoke`, n)),
  ]);
  rows.push([
    'SDK over Kafka (request-reply, dedup in PostgreSQL)',
    await measure(async (n) => {
      const { call, grant } = await granted(n);
      const reply = await caller.request(
        toolRequestsTopic(service),
        { type: Messages.toolCallRequested.type, key: `k${n % 64}`, value: { ...call, grant } },
        { replyTopic: Topics.toolResponses, timeoutMs: 10_000 },
      );
      completed('Kafka', reply.value);
    }),
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
  rmSync(keys, { recursive: true, force: true });
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
