import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusTransport, createKafkaBus, createMemoryBus, type MessageBus } from '@toolbus/messaging';
import { Histogram, metric, type Logger } from '@toolbus/observability';
import { ConfigError } from './config.js';
import { kafkaSecurityFromConfig, type KafkaSecurityConfig } from './kafka-config.js';
import { PinoNestLogger } from './logger.js';
import { ProblemFilter } from './problem.js';

/** The bus a service uses: Kafka when brokers are configured, the in-memory bus otherwise. */
export function busFromConfig(
  serviceName: string,
  config: {
    KAFKA_BROKERS?: string[];
    KAFKA_SESSION_TIMEOUT_MS: number;
    SHUTDOWN_DEADLINE_MS: number;
  } & KafkaSecurityConfig,
  logger: Logger,
): MessageBus {
  if (config.KAFKA_BROKERS && config.KAFKA_BROKERS.length > 0) {
    return createKafkaBus({
      serviceName,
      brokers: config.KAFKA_BROKERS,
      ...kafkaSecurityFromConfig(config, logger),
      logger: logger.child({ component: 'bus' }),
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
    });
  }
  return createMemoryBus({
    serviceName,
    logger: logger.child({ component: 'bus' }),
    shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
  });
}

export interface ServiceOptions {
  name: string;
  /** The service's root Nest module. */
  module: unknown;
  logger: Logger;
  host: string;
  port: number;
  /** When given, the app's @OnMessage/@OnRequest handlers are served from this bus. */
  bus?: MessageBus;
  /** Close the app and exit on SIGTERM/SIGINT (default true; tests that embed a service pass false). */
  handleSignals?: boolean;
  /** Per-topic handler concurrency from config. */
  concurrency?: Record<string, number>;
  shutdownDeadlineMs?: number;
  /** Largest request body accepted (default Fastify's 1 MiB). */
  bodyLimit?: number;
  /** Runs before the server listens: content-type parsers, hooks. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Builds the one Nest app a service runs: Fastify for HTTP (health, metrics, API), the bus
 * transport for its Kafka handlers, pino for framework logs, and signal handling so SIGTERM
 * drains in-flight messages (within the shutdown deadline) before the process exits.
 */
export async function startService(options: ServiceOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module as never,
    new FastifyAdapter(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    {
      logger: new PinoNestLogger(options.logger.child({ component: 'nest' })),
      // Body parsing is configured below (acceptEmptyJsonBodies), not by Nest.
      bodyParser: false,
    },
  );
  acceptEmptyJsonBodies(app);
  measureRequests(app);
  // Every HTTP error, whoever throws it, leaves as problem+json (RFC 9457).
  app.useGlobalFilters(new ProblemFilter(options.logger.child({ component: 'http' })));
  await options.configure?.(app);
  if (options.bus) {
    app.connectMicroservice(
      { strategy: new BusTransport(options.bus, { groupPrefix: options.name }) },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  }
  await app.listen(options.port, options.host);
  if (options.handleSignals ?? true) {
    // Not Nest's enableShutdownHooks: it re-raises the signal after closing, so a clean drain
    // would still end with "killed by SIGTERM". Here a drained shutdown exits 0, a failed one 1.
    const shutdown = (signal: string) => {
      options.logger.info({ signal }, `${options.name} shutting down`);
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          options.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  }
  options.logger.info(
    { host: options.host, port: options.port, bus: options.bus ? 'on' : 'off' },
    `${options.name} started`,
  );
  return app;
}

const requestDuration = () =>
  metric(
    'toolbus_http_request_duration_seconds',
    (r) =>
      new Histogram({
        name: 'toolbus_http_request_duration_seconds',
        help: 'HTTP requests served, by route template, method and status',
        labelNames: ['route', 'method', 'status'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [r],
      }),
  );

/**
 * Every service's request latency by route template (`/v1/tools/:ref`, never the concrete
 * path, so labels stay few); requests that match no route count as `unmatched`.
 */
function measureRequests(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      requestDuration().observe(
        {
          route: request.routeOptions.url ?? 'unmatched',
          method: request.method,
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
}

/**
 * A POST that carries nothing (`approve`, `sync`) is often sent with `content-type:
 * application/json` and no body; Fastify refuses that by default. Here an empty JSON body is
 * simply absent, and malformed JSON is a 400 that says where it broke.
 */
function acceptEmptyJsonBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (
      _request: unknown,
      body: string | Buffer,
      done: (error: Error | null, value?: unknown) => void,
    ) => {
      const text = body.toString();
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(
          Object.assign(new Error(`the body is not valid JSON: ${(error as Error).message}`), {
            statusCode: 400,
            code: 'FST_ERR_CTP_INVALID_JSON_BODY',
          }),
        );
      }
    },
  );
}

/**
 * Runs a service's `main`: a configuration error is the operator's to fix, so it is printed as
 * its message naming each bad variable, without a stack; anything else with its stack. Either
 * way the process exits 1.
 */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${name}: ${error.message}\n`);
    else
      process.stderr.write(
        `${name} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  });
}
