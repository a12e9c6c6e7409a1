import type { Server as TlsServer } from 'node:tls';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { platformTopics, type TopicSpec } from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import { createLogger, type Logger } from '@toolbus/observability';
import type { DataSource, MigrationInterface } from '@toolbus/persistence';
import type { StateStore } from '@toolbus/state';
import type { ConfigOf, ConfigSpec } from './config.js';
import { loadConfig } from './config.js';
import { busFromConfig, runMain } from './bootstrap.js';
import { urlDatabase, type DatabaseConnector } from './database.js';
import { Readiness, type ReadinessCheck } from './health.js';
import { startManagementServer } from './management.js';
import { mtlsFromConfig, TlsFiles } from './tls.js';
import { createServiceApp } from './service-app.js';
import { ShutdownSequence } from './shutdown.js';

/** Something a service runs beside its handlers (an outbox relay, a watcher): started after the
 * server listens, stopped once the bus consumers have drained. */
export interface Worker {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** What a host hands a service. Whatever it omits, the service builds from its own config. */
export interface ServiceHost {
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** A bus the host owns (the embedded platform's one in-memory bus): the service never closes it. */
  bus?: MessageBus;
  /** Opens the service's database schema; default: from its `DATABASE_URL`. */
  database?: DatabaseConnector;
  /** Shared state the host owns (the embedded platform's in-memory store); never closed here. */
  state?: StateStore;
  /** Exit on SIGTERM/SIGINT after the shutdown sequence. Default false; `runService` sets it. */
  handleSignals?: boolean;
  /** Apply the migrations and stop (the chart's migration Job). Default false. */
  migrateOnly?: boolean;
}

/** Common variables every definition's config includes (see `commonConfig`). */
type CommonVars = {
  HOST: string;
  PORT: number;
  MANAGEMENT_PORT: number;
  MTLS_PORT?: number;
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
  TLS_CA_FILE?: string;
  LOG_LEVEL: string;
  KAFKA_BROKERS?: string[];
  KAFKA_NAMESPACE?: string;
  KAFKA_SESSION_TIMEOUT_MS: number;
  SHUTDOWN_DEADLINE_MS: number;
};

/** What a service's `module()` gets: its typed config and the I/O it was given or built. */
export interface ServiceContext<C> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly bus: MessageBus;
  /** The service's database, when its definition declares one. */
  readonly db: DataSource | undefined;
  /** The host's shared state store, when it gives one (else the service builds its own). */
  readonly state: StateStore | undefined;
  /**
   * Closes something `module()` created (a catalog view, a client pool) during shutdown, after
   * the consumers drained and the workers stopped; the last registered closes first.
   */
  onStop(what: string, stop: () => void | Promise<void>): void;
}

/** One service, declared once: the embedded platform and `main.ts` both start it from this. */
export interface ServiceDefinition<S extends ConfigSpec> {
  /** Names the logger, the CloudEvents source and the consumer-group prefix. */
  name: string;
  /** Every variable the service reads, `commonConfig` included. */
  config: S;
  /** The service's own schema and migrations; omit for a service without a database. */
  database?(config: ConfigOf<S>): {
    schema: string;
    migrations: Array<new () => MigrationInterface>;
  };
  /** Topics created at start-up when missing. Default: the platform's topics. */
  topics?(config: ConfigOf<S>): TopicSpec[];
  /** Handler concurrency per topic, overriding the handlers' decorators. */
  concurrency?(config: ConfigOf<S>): Record<string, number>;
  /** Largest request body; default Fastify's 1 MiB. */
  bodyLimit?(config: ConfigOf<S>): number;
  /**
   * The root module. It may await what must exist before the first message is taken (a
   * catalog snapshot); its providers inject the context through `SERVICE_CONFIG`, `LOGGER`,
   * `MESSAGE_BUS` and `DATA_SOURCE`.
   */
  module(context: ServiceContext<ConfigOf<S>>): DynamicModule | Promise<DynamicModule>;
  /** Dependencies beyond the bus and the database that /health/ready checks (Redis...). */
  readiness?(context: ServiceContext<ConfigOf<S>>): ReadinessCheck[];
  /** Providers implementing {@link Worker}, started in this order and stopped in reverse. */
  workers?: Array<Type<Worker> | symbol | string>;
  /** Runs once the server listens and the workers started (background registration). */
  started?(service: RunningService<ConfigOf<S>>): void | Promise<void>;
}

/** A started service; `D` is `DataSource` for a service that declares a database. */
export interface RunningService<C, D extends DataSource | undefined = DataSource | undefined> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly bus: MessageBus;
  readonly db: D;
  readonly app: INestApplication;
  /** Base URL of the API (`http://127.0.0.1:<port>`, or `https://` over mutual TLS). */
  readonly url: string;
  /** Base URL of the management port: `/health/live`, `/health/ready`, `/metrics`. */
  readonly managementUrl: string;
  /** A provider of the running app (`service.get(CatalogService)`). */
  get<T>(token: Type<T> | symbol | string): T;
  /** The shutdown sequence (see {@link startService}); safe to call twice. */
  close(): Promise<void>;
}

/** Declares a service; the identity function that gives the definition its types. */
export function defineService<S extends ConfigSpec>(
  definition: ServiceDefinition<S>,
): ServiceDefinition<S> {
  return definition;
}

/**
 * Starts a service on what the host gives it: validated config; the management port (probes
 * and metrics, not ready until the service serves); the database, migrated; the bus, topics
 * ensured; the root module in one Nest app whose bus handlers start consuming before the API
 * listens (ready means consuming), on `PORT`, or only over mutual TLS on `MTLS_PORT`; then the
 * workers.
 *
 * One shutdown path, bounded by `SHUTDOWN_DEADLINE_MS`: readiness fails at once, the bus
 * consumers drain their in-flight messages, the workers stop, what `module()` registered
 * closes, then the bus (unless the host owns it), then the database, and last the HTTP
 * servers (the API's, then the management port's, so probes and the final metrics scrape
 * answer until the end).
 *
 * Resolves `undefined` after `migrateOnly`.
 */
export async function startService<S extends ConfigSpec>(
  definition: ServiceDefinition<S>,
  host: ServiceHost = {},
): Promise<RunningService<ConfigOf<S>> | undefined> {
  const config = loadConfig(definition.config, host.env ?? process.env);
  const common = config as unknown as CommonVars;
  const mtls = mtlsFromConfig(common);
  const name = definition.name;
  const logger = host.logger ?? createLogger({ name, level: common.LOG_LEVEL });
  const shutdown = new ShutdownSequence(logger, common.SHUTDOWN_DEADLINE_MS);
  const readiness = new Readiness();
  shutdown.onBegin(() => readiness.draining.start());
  try {
    const management = host.migrateOnly
      ? undefined
      : await startManagementServer({
          host: common.HOST,
          port: common.MANAGEMENT_PORT,
          readiness,
          logger,
        });
    if (management) shutdown.add('http', 'management server', () => management.close());
    const db = await openServiceDatabase(definition, config, host, logger, shutdown);
    if (host.migrateOnly) {
      await shutdown.run();
      logger.info({ service: name }, 'migrations applied; exiting (--migrate-only)');
      return undefined;
    }
    const bus = host.bus ?? busFromConfig(name, config as unknown as BusConfig, logger);
    if (!host.bus) shutdown.add('bus', 'bus', () => bus.close(shutdown.remainingMs()));
    await bus.ensureTopics(definition.topics?.(config) ?? platformTopics());
    const context: ServiceContext<ConfigOf<S>> = {
      ...{ name, config, logger, bus, db, state: host.state },
      onStop: (what, stop) => shutdown.add('resources', what, stop),
    };
    const tls = mtls && new TlsFiles(mtls, logger);
    const { app, consumers, checks } = await createServiceApp({
      context,
      module: await definition.module(context),
      draining: readiness.draining,
      https: tls?.serverOptions(),
      readiness: definition.readiness?.(context),
      bodyLimit: definition.bodyLimit?.(config),
      concurrency: definition.concurrency?.(config),
      deadlineMs: common.SHUTDOWN_DEADLINE_MS,
    });
    shutdown.add('consumers', 'bus consumers', () => consumers.close());
    // Nest's own close: lifecycle hooks, then the API server.
    shutdown.add('http', 'api server', () => app.close());
    await app.listen(mtls?.port ?? common.PORT, common.HOST);
    if (tls) {
      tls.watch(app.getHttpServer() as TlsServer);
      shutdown.add('http', 'tls file watch', () => tls.stop());
    }
    await startWorkers(definition, app, shutdown);
    const running: RunningService<ConfigOf<S>> = {
      ...{ name, config, logger, bus, db, app, managementUrl: management!.url },
      url: localUrl(await app.getUrl()),
      get: (token) => app.get(token as Type<never>),
      close: () => shutdown.run(),
    };
    readiness.serving(checks);
    await definition.started?.(running);
    if (host.handleSignals) shutdown.exitOnSignals(name);
    logger.info({ url: running.url, management: running.managementUrl }, `${name} started`);
    return running;
  } catch (error) {
    await shutdown.run().catch(() => undefined);
    throw error;
  }
}

type BusConfig = Parameters<typeof busFromConfig>[1];

async function openServiceDatabase<S extends ConfigSpec>(
  definition: ServiceDefinition<S>,
  config: ConfigOf<S>,
  host: ServiceHost,
  logger: Logger,
  shutdown: ShutdownSequence,
): Promise<DataSource | undefined> {
  const database = definition.database?.(config);
  if (!database) return undefined;
  const connector = host.database ?? urlDatabase(config as unknown as { DATABASE_URL: string });
  const db = await connector.open({ ...database, logger });
  shutdown.add('database', 'database', () => db.destroy());
  return db;
}

async function startWorkers<S extends ConfigSpec>(
  definition: ServiceDefinition<S>,
  app: INestApplication,
  shutdown: ShutdownSequence,
): Promise<void> {
  for (const token of definition.workers ?? []) {
    const worker = app.get<Worker>(token as Type<Worker>);
    await worker.start();
    shutdown.add('workers', describeToken(token), () => worker.stop());
  }
}

/** The address a local caller uses: loopback for a wildcard bind. */
function localUrl(url: string): string {
  return url
    .replace('[::1]', '127.0.0.1')
    .replace('0.0.0.0', '127.0.0.1')
    .replace('[::]', '127.0.0.1');
}

function describeToken(token: Type<Worker> | symbol | string): string {
  return typeof token === 'function' ? token.name : String(token);
}

/**
 * A service's `main.ts`: starts it from the environment, exits on SIGTERM/SIGINT after the
 * shutdown sequence, and with `--migrate-only` applies the migrations and exits 0 (the chart's
 * migration Job). A configuration error prints the bad variables and exits 1.
 */
export function runService<S extends ConfigSpec>(definition: ServiceDefinition<S>): void {
  runMain(definition.name, async () => {
    const migrateOnly = process.argv.includes('--migrate-only');
    const running = await startService(definition, { handleSignals: true, migrateOnly });
    if (!running) process.exit(0);
  });
}
