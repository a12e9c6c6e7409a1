import type { ToolDefinition } from '@toolbus/contracts';

/** Words too common to say anything about which tool a question needs. */
const STOPWORDS = new Set(
  (
    'a an and are as at be by can could do does for from get give has have how i in is it its ' +
    'me my of on or please show tell than that the their them there these this to was what when ' +
    'where which who why will with would you your'
  ).split(' '),
);

/** Lower-case word stems: `get_credit_limit` and "credit limits" share `credit`, `limit`. */
export function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 && !STOPWORDS.has(t))
    .map(stem);
}

function stem(term: string): string {
  if (term.length > 4 && term.endsWith('ies')) return `${term.slice(0, -3)}y`;
  if (term.length > 3 && term.endsWith('s') && !term.endsWith('ss')) return term.slice(0, -1);
  return term;
}

interface IndexedTool {
  tool: ToolDefinition;
  weights: Map<string, number>;
  length: number;
}

const K1 = 1.2;
const B = 0.75;

/**
 * BM25 over the tools' names, titles, descriptions and tags, names and titles counting more:
 * how the orchestrator picks the few tools (`MAX_OFFERED_TOOLS`) a model is offered out of
 * hundreds the caller may use, and what `find_tools` searches. Built once per catalog
 * revision; ties break by name so the same question always gets the same tools.
 */
export class ToolIndex {
  private readonly tools: IndexedTool[];
  private readonly documentFrequency = new Map<string, number>();
  private readonly averageLength: number;

  constructor(tools: readonly ToolDefinition[]) {
    this.tools = tools.map((tool) => {
      const weights = new Map<string, number>();
      const add = (text: string, weight: number) => {
        for (const t of terms(text)) weights.set(t, (weights.get(t) ?? 0) + weight);
      };
      add(tool.name, 3);
      add(tool.title, 2);
      add(tool.tags.join(' '), 2);
      add(tool.description, 1);
      let length = 0;
      for (const w of weights.values()) length += w;
      for (const t of weights.keys())
        this.documentFrequency.set(t, (this.documentFrequency.get(t) ?? 0) + 1);
      return { tool, weights, length };
    });
    this.averageLength =
      this.tools.reduce((sum, t) => sum + t.length, 0) / Math.max(1, this.tools.length);
  }

  get size(): number {
    return this.tools.length;
  }

  /** The `limit` tools most relevant to `text`, best first; tools that match nothing come last. */
  rank(text: string, limit: number, exclude: ReadonlySet<string> = new Set()): ToolDefinition[] {
    return this.scored(text, exclude)
      .slice(0, limit)
      .map((s) => s.tool);
  }

  /** Like {@link rank}, but only tools that match at least one word of `text`. */
  search(text: string, limit: number, exclude: ReadonlySet<string> = new Set()): ToolDefinition[] {
    return this.scored(text, exclude)
      .filter((s) => s.score > 0)
      .slice(0, limit)
      .map((s) => s.tool);
  }

  private scored(
    text: string,
    exclude: ReadonlySet<string>,
  ): Array<{ tool: ToolDefinition; score: number }> {
    const query = [...new Set(terms(text))];
    const n = this.tools.length;
    const scored = this.tools
      .filter((t) => !exclude.has(t.tool.name))
      .map((t) => {
        let score = 0;
        for (const term of query) {
          const tf = t.weights.get(term);
          if (!tf) continue;
          const df = this.documentFrequency.get(term) ?? 0;
          const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          score +=
            (idf * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * t.length) / this.averageLength));
        }
        return { tool: t.tool, score };
      });
    scored.sort((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name));
    return scored;
  }
}
