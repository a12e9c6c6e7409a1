import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { databaseCheck } from '@toolbus/persistence';
import { BusTransport } from '@toolbus/messaging';
import { Histogram, metric } from '@toolbus/observability';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { ServiceContextModule } from './context.js';
import type { Draining, ReadinessCheck } from './health.js';
import { PinoNestLogger } from './logger.js';
import { ProblemError, ProblemFilter, sendProblem } from './problem.js';
import type { ServiceContext } from './service.js';

export interface ServiceAppOptions {
  context: ServiceContext<unknown>;
  module: DynamicModule;
  draining: Draining;
  /** Serve the API over TLS instead of plain HTTP (mutual TLS: `tls.ts`). */
  https?: HttpsServerOptions;
  bodyLimit?: number;
  concurrency?: Record<string, number>;
  deadlineMs: number;
}

export interface ServiceApp {
  app: INestApplication;
  /** The bus handlers of the app (`@OnMessage`/`@OnRequest`), consuming already. */
  consumers: { close(): Promise<void> };
  /** What `/health/ready` checks: the bus, the database, and the definition's own. */
  checks: ReadinessCheck[];
}

/**
 * The one Nest app of a service: Fastify for the API (the module's routes; health and metrics
 * are on the management port), problem+json for every error, pino for framework logs, and the
 * bus transport serving the module's `@OnMessage`/`@OnRequest` handlers, started before the
 * server listens.
 */
export async function createServiceApp(
  options: ServiceAppOptions & { readiness?: ReadinessCheck[] },
): Promise<ServiceApp> {
  const { context, draining } = options;
  const checks: ReadinessCheck[] = [
    { name: context.bus.kind === 'kafka' ? 'kafka' : 'bus', check: () => context.bus.isHealthy() },
    ...(context.db ? [databaseCheck(context.db)] : []),
    ...(options.readiness ?? []),
  ];
  @Module({ imports: [ServiceContextModule.forContext(context), options.module] })
  class ServiceRootModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    ServiceRootModule,
    new FastifyAdapter({
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.https ? { https: options.https } : {}),
    }),
    {
      logger: new PinoNestLogger(context.logger.child({ component: 'nest' })),
      // Body parsing is configured below (acceptEmptyJsonBodies), not by Nest.
      bodyParser: false,
    },
  );
  acceptEmptyJsonBodies(app);
  measureRequests(app);
  refuseWhileDraining(app, draining);
  // Every HTTP error, whoever throws it, leaves as problem+json (RFC 9457).
  app.useGlobalFilters(new ProblemFilter(context.logger.child({ component: 'http' })));
  const transport = new BusTransport(context.bus, {
    groupPrefix: context.name,
    shutdownDeadlineMs: options.deadlineMs,
    concurrency: options.concurrency,
  });
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  return { app, consumers: transport, checks };
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
 * Once the shutdown sequence begins, a new API request is answered 503 with Retry-After (the
 * load balancer sends it to another replica) instead of reaching a database about to close.
 */
function refuseWhileDraining(app: NestFastifyApplication, draining: Draining): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (draining.active) {
        await sendProblem(
          reply,
          request.url,
          new ProblemError(503, 'shutting_down', 'this instance is shutting down; try again', {
            headers: { 'retry-after': '1' },
          }),
        );
      }
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
