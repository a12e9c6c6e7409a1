import type { ToolDefinition } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { CatalogListener, ServedTool } from '@toolbus/registry-client';
import { BusinessError, jsonSchemaTool, type Tool, type ToolProvider } from '@toolbus/tool-sdk';
import type { HttpToolExecutor } from '../executor/http-tool-executor.js';

/** What the provider needs of `RegistryView` (and what a test's `RegistryView.of` gives). */
export interface CatalogView {
  get(name: string): ServedTool | undefined;
  list(): ServedTool[];
  onChange(listener: CatalogListener): () => void;
}

interface CachedTool {
  definition: ToolDefinition;
  tool: Tool;
}

const isHttp = (served: ServedTool | undefined): served is ServedTool =>
  served?.definition.binding?.kind === 'http';

/**
 * The tools this consumer serves: every catalogued tool whose binding is an HTTP operation, in
 * the version the registry serves. One SDK tool is built per name and version and kept until
 * the catalog changes that tool; a deprecated version still runs, with one warning in the log.
 */
export class HttpToolProvider implements ToolProvider {
  private readonly tools = new Map<string, CachedTool>();
  private readonly warned = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly view: CatalogView,
    private readonly executor: HttpToolExecutor,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = view.onChange((name) => {
      for (const key of this.tools.keys()) if (key.startsWith(`${name}@`)) this.tools.delete(key);
    });
  }

  get(name: string): Tool | undefined {
    const served = this.view.get(name);
    if (!isHttp(served)) return undefined;
    const { definition } = served;
    const key = `${definition.name}@${definition.version}`;
    if (served.deprecated && !this.warned.has(key)) {
      this.warned.add(key);
      this.logger.warn(
        { tool: definition.name, version: definition.version },
        'serving a deprecated tool version: callers should move to a newer one',
      );
    }
    const cached = this.tools.get(key);
    if (cached?.definition === definition) return cached.tool;
    const tool = this.build(definition);
    this.tools.set(key, { definition, tool });
    return tool;
  }

  list(): Tool[] {
    return this.view
      .list()
      .filter(isHttp)
      .flatMap((served) => this.get(served.definition.name) ?? []);
  }

  /** Stops following the catalog's changes. */
  close(): void {
    this.unsubscribe();
    this.tools.clear();
  }

  private build(definition: ToolDefinition): Tool {
    try {
      this.executor.prepare(definition);
      return jsonSchemaTool(definition, (input, ctx) =>
        this.executor.execute(definition, input, {
          deadline: ctx.deadline,
          signal: ctx.signal,
          idempotencyKey: ctx.idempotencyKey,
          logger: ctx.logger,
          span: ctx.span,
        }),
      );
    } catch (error) {
      // A definition the registry let through but that cannot run (a schema ajv rejects, say):
      // its calls are answered with the reason instead of failing the consumer.
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(
        { err: error, tool: definition.name, version: definition.version },
        'tool definition cannot be executed',
      );
      return jsonSchemaTool({ ...definition, inputSchema: {}, outputSchema: undefined }, () =>
        Promise.reject(
          new BusinessError(
            'tool_definition_invalid',
            `${definition.name} ${definition.version} cannot run: ${reason.slice(0, 500)}; its definition must be fixed in the registry`,
          ),
        ),
      );
    }
  }
}
