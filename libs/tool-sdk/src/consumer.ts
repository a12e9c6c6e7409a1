import { Module, type INestApplication, type OnApplicationShutdown } from '@nestjs/common';
import {
  Messages,
  platformTopics,
  toolRequestsTopic,
  type RegisterToolRequest,
  type ToolCallCompleted,
  type ToolCallFailed,
} from '@toolbus/contracts';
import type { MessageBus, Subscription } from '@toolbus/messaging';
import { createLogger, type Logger } from '@toolbus/observability';
import {
  databaseCheck,
  openDatabase,
  type DataSource,
  type MigrationInterface,
} from '@toolbus/persistence';
import {
  busFromConfig,
  HealthModule,
  loadConfig,
  startService,
  type ConfigSpec,
} from '@toolbus/service-kit';
import { toolConsumerConfig, type ToolConsumerConfig } from './config.js';
import { CreateToolCallDedup1732406400000 } from './dedup.js';
import { toToolDefinition, type Tool } from './define-tool.js';
import { TOOL_RUNTIME_OPTIONS, ToolHttpController } from './http.controller.js';
import { isToolProvider, type ToolProvider } from './json-schema-tool.js';
import { registerTools } from './registration.js';
import { ToolRuntime } from './runtime.js';

export interface ToolConsumerOptions {
  /** Service name: the topic is `tool_requests.<service>`, the database schema `<service>`. */
  service: string;
  /**
   * The tools, or a function of the validated config (for tools with settings of their own).
   * A {@link ToolProvider} serves tools known only at run time (the generic executors); those
   * are registered by whoever created them (an import), so the consumer does not register them.
   */
  tools:
    | Tool[]
    | ToolProvider
    | ((config: ToolConsumerConfig & Record<string, unknown>) => Tool[] | ToolProvider);
  /** The consumer's own migrations, applied after the SDK's dedup table. */
  migrations?: Array<new () => MigrationInterface>;
  /** Version registered for tools that name none. */
  version?: string;
  /** Extra config variables of the consumer, validated with the SDK's. */
  config?: ConfigSpec;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Tests and the embedded host pass their own bus (e.g. an in-memory one) and logger. */
  bus?: MessageBus;
  logger?: Logger;
  /** Exit cleanly on SIGTERM/SIGINT. Default true; embedded tests pass false. */
  handleSignals?: boolean;
}

export interface RunningToolConsumer {
  app: INestApplication;
  runtime: ToolRuntime;
  db: DataSource;
  bus: MessageBus;
  config: ToolConsumerConfig;
  /** Base URL of the HTTP server. */
  url: string;
  /** The registry definitions of the tools. */
  definitions: RegisterToolRequest[];
  close(): Promise<void>;
}

/**
 * Starts a tool consumer: one Nest app that answers `tool_requests.<service>` on Kafka (replies
 * on `tool_responses`), serves synchronous tools at `POST /tools/<name>:invoke`, keeps dedup
 * records in its database, serves `/health/live`, `/health/ready` (Kafka and the database) and
 * `/metrics`, and registers its tools with the registry. Started with `--migrate-only`, it
 * applies the database migrations and exits (the chart's migration Job).
 */
export async function runToolConsumer(options: ToolConsumerOptions): Promise<RunningToolConsumer> {
  const config = loadConfig(
    { ...toolConsumerConfig, ...(options.config ?? {}) },
    options.env ?? process.env,
  ) as ToolConsumerConfig;
  const logger = options.logger ?? createLogger({ name: options.service, level: config.LOG_LEVEL });
  const tools =
    typeof options.tools === 'function'
      ? options.tools(config as ToolConsumerConfig & Record<string, unknown>)
      : options.tools;
  const staticTools = isToolProvider(tools) ? [] : tools;
  const topic = toolRequestsTopic(options.service);
  const bus = options.bus ?? busFromConfig(options.service, config, logger);
  const db = await openDatabase({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA ?? options.service.replace(/-/g, '_'),
    migrations: [CreateToolCallDedup1732406400000, ...(options.migrations ?? [])],
    logger,
  });
  if (process.argv.includes('--migrate-only')) {
    // The Helm pre-install/pre-upgrade Job runs `main.js --migrate-only`: migrate, then exit.
    await db.destroy();
    logger.info({ service: options.service }, 'migrations applied; exiting (--migrate-only)');
    process.exit(0);
  }
  const runtime = new ToolRuntime({ service: options.service, tools, db, logger });
  await bus.ensureTopics(platformTopics([options.service]));

  const registration = new AbortController();
  // Filled once the app is up; the shutdown path may run before that.
  const running: { subscription?: Subscription } = {};
  let closed = false;
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    registration.abort();
    await running.subscription?.stop(config.SHUTDOWN_DEADLINE_MS);
    runtime.abortAll();
    if (!options.bus) await bus.close(config.SHUTDOWN_DEADLINE_MS);
    await db.destroy();
  };
  const lifecycle: OnApplicationShutdown = { onApplicationShutdown: shutdown };

  @Module({
    imports: [
      HealthModule.forRoot({
        checks: () => [{ name: 'kafka', check: () => bus.isHealthy() }, databaseCheck(db)],
      }),
    ],
    controllers: [ToolHttpController],
    providers: [
      { provide: ToolRuntime, useValue: runtime },
      {
        provide: TOOL_RUNTIME_OPTIONS,
        useValue: { defaultDeadlineMs: config.TOOL_DEFAULT_DEADLINE_MS },
      },
      { provide: 'TOOL_CONSUMER_LIFECYCLE', useValue: lifecycle },
    ],
  })
  class ToolConsumerModule {}

  // Take calls before the HTTP server (and so /health/ready) comes up: ready means consuming.
  running.subscription = await bus.respond<unknown, ToolCallCompleted | ToolCallFailed>(
    {
      topic,
      groupId: `${options.service}.tool-requests`,
      concurrency: config.TOOL_CONCURRENCY,
      types: [Messages.toolCallRequested.type],
    },
    async (message) => {
      const reply = await runtime.invoke(message.value, 'kafka');
      return reply.ok
        ? { type: Messages.toolCallCompleted.type, value: reply.completed }
        : { type: Messages.toolCallFailed.type, value: reply.failed };
    },
  );

  let app: INestApplication;
  try {
    app = await startService({
      name: options.service,
      module: ToolConsumerModule,
      logger,
      host: config.HOST,
      port: config.PORT,
      handleSignals: options.handleSignals,
    });
  } catch (error) {
    await shutdown();
    throw error;
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const definitions = staticTools.map((tool) =>
    toToolDefinition(tool, {
      owner: config.TOOL_OWNER,
      region: config.TOOL_REGION,
      version: options.version,
      transport:
        tool.sync && config.TOOL_HTTP_URL
          ? { kind: 'http', url: config.TOOL_HTTP_URL }
          : { kind: 'kafka', topic },
    }),
  );
  if (staticTools.length === 0) logger.info('tools are resolved at run time; none to register');
  else if (config.REGISTRY_URL)
    void registerTools(
      config.REGISTRY_URL,
      definitions,
      logger,
      registration.signal,
      config.REGISTRY_TOKEN,
    );
  else logger.info('REGISTRY_URL unset: tools are not registered');

  return {
    app,
    runtime,
    db,
    bus,
    config,
    url,
    definitions,
    close: async () => {
      await app.close();
      await shutdown();
    },
  };
}
