import type { JsonObject, ToolDefinition, ToolSpec } from '@toolbus/contracts';
import type { ToolIndex } from '../catalog/tool-ranking.js';

/**
 * The meta-tool offered beside the chosen tools, so a model can look for the rest of what the
 * caller may use (a catalog of hundreds is never offered whole). It searches only the tools
 * this ask may use; what it finds is offered from the next step on, and still passes the
 * policy chain when called.
 */
export const FIND_TOOLS: ToolSpec = {
  name: 'find_tools',
  description:
    'Searches for more tools you may use, when none of the tools you have fits the task. Give a few keywords describing what the tool should do. The tools found become available to you from your next step.',
  inputSchema: {
    type: 'object',
    properties: {
      query: {
        type: 'string',
        minLength: 1,
        maxLength: 500,
        description: 'What the tool should do, in a few keywords',
      },
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: 20,
        default: 5,
        description: 'How many tools to return at most',
      },
    },
    required: ['query'],
    additionalProperties: false,
  },
};

/** A tool as the model sees it. */
export function toolSpec(tool: ToolDefinition): ToolSpec {
  return {
    name: tool.name,
    description: `${tool.title}: ${tool.description}`,
    inputSchema: tool.inputSchema,
  };
}

/** Runs `find_tools`: what it found, and the text the model reads. */
export function findTools(
  index: ToolIndex,
  input: JsonObject,
  offered: ReadonlySet<string>,
): { tools: ToolDefinition[]; text: string } {
  const query = typeof input['query'] === 'string' ? input['query'] : '';
  const limit =
    typeof input['limit'] === 'number' && Number.isInteger(input['limit'])
      ? Math.min(20, Math.max(1, input['limit']))
      : 5;
  if (!query.trim())
    return {
      tools: [],
      text: JSON.stringify({ error: 'find_tools needs a query: what the tool should do' }),
    };
  const tools = index.search(query, limit, offered);
  return {
    tools,
    text: JSON.stringify({
      found: tools.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description.slice(0, 500),
      })),
      note: tools.length
        ? 'These tools are available to you now.'
        : 'No other tool you may use matches; answer with what you have.',
    }),
  };
}
