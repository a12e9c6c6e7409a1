import type { ToolDefinition } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { RegistryView } from '@toolbus/registry-client';
import { jsonSchemaTool, type Tool, type ToolProvider } from '@toolbus/tool-sdk';
import type { McpToolExecutor } from '../bridge/mcp-tool-executor.js';

export interface McpToolProviderOptions {
  view: RegistryView;
  executor: Pick<McpToolExecutor, 'call'>;
  /**
   * Serve only definitions whose Kafka transport is this topic (this bridge's
   * `tool_requests.<service>`): another bridge deployment (an upstream's `executorTopic`) owns
   * the others. Definitions served over HTTP are not filtered. Unset: every MCP definition.
   */
  topic?: string;
  logger?: Logger;
}

/**
 * The bridge's tools: every served registry definition bound to an upstream MCP server
 * (`binding.kind === 'mcp'`), as SDK tools whose input and output are checked against the
 * definition's JSON Schemas and whose handler calls the upstream. One tool is built per name
 * and version, and dropped when the registry changes that name, so the next call builds it
 * from the current definition.
 */
export class McpToolProvider implements ToolProvider {
  private readonly built = new Map<string, Tool>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: McpToolProviderOptions) {
    this.unsubscribe = options.view.onChange((name) => {
      for (const key of this.built.keys()) if (key.startsWith(`${name}@`)) this.built.delete(key);
    });
  }

  get(name: string): Tool | undefined {
    const served = this.options.view.get(name);
    return served && this.serves(served.definition) ? this.toolOf(served.definition) : undefined;
  }

  list(): Tool[] {
    return this.options.view
      .list()
      .filter((s) => this.serves(s.definition))
      .flatMap((s) => {
        const tool = this.toolOf(s.definition);
        return tool ? [tool] : [];
      });
  }

  /** Stops following the registry view. */
  close(): void {
    this.unsubscribe();
  }

  private serves(definition: ToolDefinition): boolean {
    if (definition.binding?.kind !== 'mcp') return false;
    const { topic } = this.options;
    return !topic || definition.transport.kind !== 'kafka' || definition.transport.topic === topic;
  }

  private toolOf(definition: ToolDefinition): Tool | undefined {
    const key = `${definition.name}@${definition.version}`;
    const known = this.built.get(key);
    if (known) return known;
    let tool: Tool;
    try {
      tool = jsonSchemaTool(definition, (input, ctx) =>
        this.options.executor.call(definition, input, {
          signal: ctx.signal,
          deadline: ctx.deadline,
          logger: ctx.logger,
        }),
      );
    } catch (error) {
      // A schema the validator cannot compile: the tool is not served, the rest are.
      this.options.logger?.error(
        { err: error, tool: definition.name, version: definition.version },
        'cannot serve this MCP tool: its JSON Schema does not compile',
      );
      return undefined;
    }
    this.built.set(key, tool);
    return tool;
  }
}
