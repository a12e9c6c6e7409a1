import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { platformTopics, toolRequestsTopic, type RegisterToolRequest } from '@toolbus/contracts';
import type { DataSource, MigrationInterface } from '@toolbus/persistence';
import {
  ConfigError,
  defineService,
  LOGGER,
  SERVICE_CONFIG,
  startService,
  type ConfigOf,
  type ConfigSpec,
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceHost,
  type Worker,
} from '@toolbus/service-kit';
import type { Logger } from '@toolbus/observability';
import { callGrantVerifierFromConfig } from './call-authorizer.js';
import { toolConsumerConfig, type ToolConsumerConfig } from './config.js';
import { toolSdkMigrations } from './dedup.js';
import { DedupRetention } from './dedup-retention.worker.js';
import { toToolDefinition, type Tool } from './define-tool.js';
import { TOOL_RUNTIME_OPTIONS, ToolHttpController } from './http.controller.js';
import { isToolProvider, type ToolProvider } from './json-schema-tool.js';
import { failpointHooks } from './failpoints.js';
import { registerTools } from './registration.js';
import { ToolRuntime } from './runtime.js';
import { toolRequestsConsumer } from './tool-requests.consumer.js';

/** The config of a consumer with its own variables `S`: the SDK's and its own. */
export type ToolConsumerConfigOf<S extends ConfigSpec> = ConfigOf<typeof toolConsumerConfig & S>;

/** What a consumer serves: a fixed list, or a provider looked up on every call. */
export type ServedTools = Tool[] | ToolProvider;

export interface ToolConsumerOptions<S extends ConfigSpec = Record<never, never>> {
  /** Service name: the topic is `tool_requests.<service>`, the database schema `<service>`. */
  service: string;
  /**
   * The tools, or a function of the service context (typed config, bus, logger) for tools
   * with settings of their own or tools known only at run time. A {@link ToolProvider}'s tools
   * are registered by whoever created them (an import), so the consumer does not register them.
   * The function may close what it built through `context.onStop`.
   */
  tools:
    | ServedTools
    | ((context: ServiceContext<ToolConsumerConfigOf<S>>) => ServedTools | Promise<ServedTools>);
  /** The consumer's own migrations, applied after the SDK's dedup table. */
  migrations?: Array<new () => MigrationInterface>;
  /** Version registered for tools that name none. */
  version?: string;
  /** The consumer's own variables, validated with the SDK's. */
  config?: S;
}

/** The registry definitions of a consumer's fixed tools, as this instance registers them. */
export const TOOL_DEFINITIONS = Symbol.for('toolbus.tool-sdk.definitions');

/** Registers the fixed tools with the registry in the background; stops retrying on shutdown. */
@Injectable()
class ToolRegistration implements Worker {
  private readonly abort = new AbortController();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ToolConsumerConfig,
    @Inject(TOOL_DEFINITIONS) private readonly definitions: RegisterToolRequest[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.definitions.length === 0)
      this.logger.info('tools are resolved at run time; none to register');
    else if (!this.config.REGISTRY_URL)
      this.logger.info('REGISTRY_URL unset: tools are not registered');
    else
      void registerTools(
        this.config.REGISTRY_URL,
        this.definitions,
        this.logger,
        this.abort.signal,
        this.config.REGISTRY_TOKEN,
      );
  }

  stop(): void {
    this.abort.abort();
  }
}

/**
 * A tool consumer as a service: it answers `tool_requests.<service>` on the bus (replies on
 * `tool_responses`), serves synchronous tools at `POST /tools/<name>:invoke`, runs only calls
 * whose call grant (verified against `CALL_GRANT_JWKS_FILE` or `_URL`) authorizes them, keeps
 * dedup records in its database (purged after `DEDUP_RETENTION_HOURS`), and registers its
 * tools with the registry. Start it with
 * `runService(toolConsumer(...))` in `main.ts`, or {@link runToolConsumer} on a given host.
 */
export function toolConsumer<S extends ConfigSpec = Record<never, never>>(
  options: ToolConsumerOptions<S>,
): ServiceDefinition<typeof toolConsumerConfig & S> {
  const topic = toolRequestsTopic(options.service);
  return defineService({
    name: options.service,
    config: { ...toolConsumerConfig, ...(options.config ?? ({} as S)) },
    database: (config) => ({
      schema: config.DATABASE_SCHEMA ?? options.service.replace(/-/g, '_'),
      migrations: [...toolSdkMigrations, ...(options.migrations ?? [])],
    }),
    topics: () => platformTopics([options.service]),
    concurrency: (config) => ({ [topic]: config.TOOL_CONCURRENCY }),
    module: async (context) => {
      const grants = callGrantVerifierFromConfig(options.service, context.config);
      // A file that is missing or holds no usable key is a deployment mistake: refuse to start.
      // A URL may come up after the consumer; until then calls are refused as retryable.
      if (context.config.CALL_GRANT_JWKS_FILE)
        await grants.check().catch((error: unknown) => {
          throw new ConfigError([
            { variable: 'CALL_GRANT_JWKS_FILE', message: (error as Error).message },
          ]);
        });
      const tools =
        typeof options.tools === 'function' ? await options.tools(context) : options.tools;
      const runtime = new ToolRuntime({
        service: options.service,
        tools,
        db: context.db!,
        logger: context.logger,
        grants,
        region: context.config.TOOL_REGION,
        deadlineGraceMs: context.config.TOOL_DEADLINE_GRACE_MS,
        hooks: failpointHooks(context.config),
      });
      // After the consumers drained: handlers still running past the deadline are aborted and
      // their claims released, so a redelivery elsewhere runs them.
      context.onStop('tool handlers', () => runtime.abortAll());
      const retention = new DedupRetention(context.db!, context.logger, {
        service: options.service,
        retentionHours: context.config.DEDUP_RETENTION_HOURS,
        intervalMs: context.config.DEDUP_RETENTION_INTERVAL_MINUTES * 60_000,
      });
      return toolConsumerModule(
        options.service,
        options.version,
        context.config,
        runtime,
        retention,
        isToolProvider(tools) ? [] : tools,
      );
    },
    workers: [ToolRegistration, DedupRetention],
  });
}

@Module({})
class ToolConsumerModule {}

function toolConsumerModule(
  service: string,
  version: string | undefined,
  config: ToolConsumerConfig,
  runtime: ToolRuntime,
  retention: DedupRetention,
  staticTools: Tool[],
): DynamicModule {
  const definitions = staticTools.map((tool) =>
    toToolDefinition(tool, {
      owner: config.TOOL_OWNER,
      region: config.TOOL_REGION,
      version,
      transport:
        tool.sync && config.TOOL_HTTP_URL
          ? { kind: 'http', url: config.TOOL_HTTP_URL, service }
          : { kind: 'kafka', topic: toolRequestsTopic(service) },
    }),
  );
  return {
    module: ToolConsumerModule,
    controllers: [ToolHttpController, toolRequestsConsumer(service)],
    providers: [
      { provide: ToolRuntime, useValue: runtime },
      { provide: DedupRetention, useValue: retention },
      { provide: TOOL_DEFINITIONS, useValue: definitions },
      {
        provide: TOOL_RUNTIME_OPTIONS,
        useValue: { defaultDeadlineMs: config.TOOL_DEFAULT_DEADLINE_MS },
      },
      ToolRegistration,
    ],
  };
}

/** A started tool consumer: the service, its runtime and its tools' registry definitions. */
export interface RunningToolConsumer<C = ToolConsumerConfig> extends RunningService<C, DataSource> {
  runtime: ToolRuntime;
  definitions: RegisterToolRequest[];
  /** The dedup retention job (tests run it with `runOnce()`). */
  retention: DedupRetention;
}

/**
 * Starts a tool consumer on what the host gives it (tests and the embedded platform pass
 * their bus, logger and environment). A `migrateOnly` host is refused: use `startService`.
 */
export async function runToolConsumer<S extends ConfigSpec = Record<never, never>>(
  options: ToolConsumerOptions<S>,
  host: ServiceHost = {},
): Promise<RunningToolConsumer<ToolConsumerConfigOf<S>>> {
  if (host.migrateOnly)
    throw new Error('runToolConsumer starts a consumer; use startService to migrate');
  const running = (await startService(toolConsumer(options), host)) as RunningService<
    ToolConsumerConfigOf<S>,
    DataSource
  >;
  return Object.assign(running, {
    runtime: running.get(ToolRuntime),
    definitions: running.get<RegisterToolRequest[]>(TOOL_DEFINITIONS),
    retention: running.get(DedupRetention),
  });
}
