import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { platformTopics, toolRequestsTopic, type RegisterToolRequest } from '@toolbus/contracts';
import type { DataSource, MigrationInterface } from '@toolbus/persistence';
import {
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
import { toolConsumerConfig, type ToolConsumerConfig } from './config.js';
import { CreateToolCallDedup1732406400000 } from './dedup.js';
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
 * `tool_responses`), serves synchronous tools at `POST /tools/<name>:invoke`, keeps dedup
 * records in its database, and registers its tools with the registry. Start it with
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
      migrations: [CreateToolCallDedup1732406400000, ...(options.migrations ?? [])],
    }),
    topics: () => platformTopics([options.service]),
    concurrency: (config) => ({ [topic]: config.TOOL_CONCURRENCY }),
    module: async (context) => {
      const tools =
        typeof options.tools === 'function' ? await options.tools(context) : options.tools;
      const runtime = new ToolRuntime({
        service: options.service,
        tools,
        db: context.db!,
        logger: context.logger,
        hooks: failpointHooks(context.config),
      });
      // After the consumers drained: handlers still running past the deadline are aborted and
      // their claims released, so a redelivery elsewhere runs them.
      context.onStop('tool handlers', () => runtime.abortAll());
      return toolConsumerModule(
        options.service,
        options.version,
        context.config,
        runtime,
        isToolProvider(tools) ? [] : tools,
      );
    },
    workers: [ToolRegistration],
  });
}

@Module({})
class ToolConsumerModule {}

function toolConsumerModule(
  service: string,
  version: string | undefined,
  config: ToolConsumerConfig,
  runtime: ToolRuntime,
  staticTools: Tool[],
): DynamicModule {
  const definitions = staticTools.map((tool) =>
    toToolDefinition(tool, {
      owner: config.TOOL_OWNER,
      region: config.TOOL_REGION,
      version,
      transport:
        tool.sync && config.TOOL_HTTP_URL
          ? { kind: 'http', url: config.TOOL_HTTP_URL }
          : { kind: 'kafka', topic: toolRequestsTopic(service) },
    }),
  );
  return {
    module: ToolConsumerModule,
    controllers: [ToolHttpController, toolRequestsConsumer(service)],
    providers: [
      { provide: ToolRuntime, useValue: runtime },
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
  });
}
