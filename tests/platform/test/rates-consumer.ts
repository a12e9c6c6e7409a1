import {
  openDatabase,
  rowsOf,
  type MigrationInterface,
  type QueryRunner,
} from '@toolbus/persistence';
import { startService, type RunningService } from '@toolbus/service-kit';
import { freePort, infraFromEnv, issueToken, uniqueName } from '@toolbus/testing';
import { defineTool, RetryableToolError, toolConsumer } from '@toolbus/tool-sdk';
import { z } from 'zod';
import { logger, type TestPlatform } from './platform.js';

/** The bookings of `book_rate`: its side effect, one row per executed call. */
class CreateBookings1767398400000 implements MigrationInterface {
  name = 'CreateBookings1767398400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bookings (
        id serial PRIMARY KEY,
        idempotency_key text NOT NULL,
        pair text NOT NULL,
        amount numeric(14, 2) NOT NULL,
        booked_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE bookings');
  }
}

/** One execution of a handler, as the consumer saw it. */
export interface Execution {
  tool: 'lookup_rate' | 'book_rate';
  idempotencyKey: string;
  callId: string;
}

/** A hold on the next `book_rate` execution: it waits, in flight, until released. */
export interface Gate {
  /** Resolves when an execution reached the gate. */
  reached: Promise<Execution>;
  release(): void;
}

/** What a test switches on the consumer while it runs. */
export interface RatesControl {
  /** The upstream is down: every handler fails with a retryable `upstream_down`. */
  down: boolean;
  /** Every execution that reached a handler, in order. */
  executions: Execution[];
  /** Holds the next `book_rate` execution until the gate is released. */
  hold(): Gate;
}

const RATES: Record<string, number> = { EURUSD: 1.0842, GBPUSD: 1.2711, USDJPY: 151.37 };

const pair = z
  .string()
  .regex(/^[A-Z]{6}$/, 'must be six upper-case letters, e.g. EURUSD')
  .describe('Currency pair, base then quote, e.g. EURUSD');

/**
 * A tool consumer of the test's own, built with the tool SDK as a team would build one, on its
 * own PostgreSQL schema and its own topic: `lookup_rate` (read-only, cacheable, synchronous over
 * HTTP) and `book_rate` (a write over Kafka whose effect is a row in `bookings`, committed with
 * the SDK's dedup record). Its handlers fail on demand (`control.down`) and `book_rate` can be
 * held in flight (`control.hold()`), which the real CRM cannot do.
 */
export class RatesConsumer {
  readonly control: RatesControl;

  private constructor(
    readonly service: string,
    readonly running: RunningService<unknown>,
    private readonly schema: string,
    control: RatesControl,
  ) {
    this.control = control;
  }

  /** Starts it on the platform's infrastructure and registers its tools (drafts, unapproved). */
  static async start(
    platform: TestPlatform,
    options: { jwksFromFile?: boolean } = {},
  ): Promise<RatesConsumer> {
    const { databaseUrl } = infraFromEnv();
    const service = uniqueName('rates');
    const schema = service.replace(/-/g, '_');
    const port = await freePort();
    let gate: { release: Promise<void>; reached: (e: Execution) => void } | undefined;
    const control: RatesControl = {
      down: false,
      executions: [],
      hold() {
        let reached!: (e: Execution) => void;
        let release!: () => void;
        const reachedP = new Promise<Execution>((r) => (reached = r));
        gate = { release: new Promise<void>((r) => (release = r)), reached };
        return { reached: reachedP, release };
      },
    };
    const lookupRate = defineTool({
      name: 'lookup_rate',
      title: 'Exchange rate of a currency pair',
      description: 'Returns the current exchange rate of a currency pair, e.g. EURUSD.',
      input: z.object({ pair }),
      output: z.object({ pair: z.string(), rate: z.number(), source: z.string() }),
      scopes: ['rates:read'],
      annotations: { readOnlyHint: true, idempotentHint: true },
      cacheTtlSeconds: 300,
      sync: true,
      tags: ['rates'],
      handler: async (input, ctx) => {
        control.executions.push({
          tool: 'lookup_rate',
          idempotencyKey: ctx.idempotencyKey,
          callId: ctx.callId,
        });
        if (control.down) throw new RetryableToolError('upstream_down', 'the rates feed is down');
        const rate = RATES[input.pair];
        if (rate === undefined) throw new Error(`no rate for ${input.pair}`);
        return { pair: input.pair, rate, source: service };
      },
    });
    const bookRate = defineTool({
      name: 'book_rate',
      title: 'Book an amount at the current rate',
      description:
        'Books an amount of the base currency of a pair at the current rate; books once per idempotency key.',
      input: z.object({ pair, amount: z.number().positive().describe('Amount to book') }),
      output: z.object({ booking_id: z.number().int(), pair: z.string(), amount: z.number() }),
      scopes: ['rates:write'],
      annotations: { destructiveHint: false, idempotentHint: true },
      // Long enough for a held call to outlive an orchestrator's death and its replacement.
      timeoutMs: 90_000,
      tags: ['rates'],
      handler: async (input, ctx) => {
        const execution: Execution = {
          tool: 'book_rate',
          idempotencyKey: ctx.idempotencyKey,
          callId: ctx.callId,
        };
        control.executions.push(execution);
        if (control.down) throw new RetryableToolError('upstream_down', 'the rates feed is down');
        const held = gate;
        gate = undefined;
        if (held) {
          held.reached(execution);
          await held.release;
        }
        return ctx.transaction(async (em) => {
          const [row] = rowsOf<{ id: number }>(
            await em.query(
              'INSERT INTO bookings (idempotency_key, pair, amount) VALUES ($1, $2, $3) RETURNING id',
              [ctx.idempotencyKey, input.pair, input.amount],
            ),
          );
          return { booking_id: row!.id, pair: input.pair, amount: input.amount };
        });
      },
    });
    const running = (await startService(
      toolConsumer({
        service,
        tools: [lookupRate, bookRate],
        migrations: [CreateBookings1767398400000],
      }),
      {
        env: {
          ...platform.kafkaEnv(),
          DATABASE_URL: databaseUrl,
          DATABASE_SCHEMA: schema,
          PORT: String(port),
          MANAGEMENT_PORT: '0',
          LOG_LEVEL: 'silent',
          TOOL_HTTP_URL: `http://127.0.0.1:${port}`,
          REGISTRY_URL: platform.registry.url,
          REGISTRY_TOKEN: await issueToken({
            sub: `${service}-service`,
            kind: 'service',
            scopes: ['registry:write', 'registry:read'],
            teams: ['platform'],
          }),
          ...(options.jwksFromFile
            ? { CALL_GRANT_JWKS_FILE: platform.callGrantJwksFile() }
            : { CALL_GRANT_JWKS_URL: `${platform.orchestrators[0]!.url}/.well-known/jwks.json` }),
        },
        logger,
      },
    ))!;
    return new RatesConsumer(service, running, schema, control);
  }

  /** The bookings `book_rate` made, by idempotency key. */
  async bookings(): Promise<Array<{ idempotency_key: string; pair: string }>> {
    return rowsOf(
      await this.running.db!.query('SELECT idempotency_key, pair FROM bookings ORDER BY id'),
    );
  }

  /** Executions of `tool` so far. */
  executionsOf(tool: Execution['tool']): Execution[] {
    return this.control.executions.filter((e) => e.tool === tool);
  }

  async close(): Promise<void> {
    await this.running.close().catch(() => undefined);
    const db = await openDatabase({
      url: infraFromEnv().databaseUrl,
      schema: 'public',
      migrations: [],
    });
    await db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await db.destroy();
  }
}
