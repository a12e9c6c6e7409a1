import type { ToolSpec } from '@toolbus/contracts';
import { nameWords } from './question.js';

/** The kinds of value the offline planner knows how to fill. */
export type PropertyKind = 'enum' | 'string' | 'integer' | 'number' | 'boolean' | 'other';

/** One property of a tool's input schema, as far as the offline planner cares. */
export interface PropertyInfo {
  name: string;
  words: string[];
  kind: PropertyKind;
  required: boolean;
  enumValues: readonly unknown[];
  description: string;
  default: unknown;
  hasDefault: boolean;
}

/** Reads a JSON value as an object, or undefined when it is something else. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function kindOf(schema: Record<string, unknown>): PropertyKind {
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return 'enum';
  const declared = schema['type'];
  const types = Array.isArray(declared) ? declared : [declared];
  for (const kind of ['integer', 'number', 'string', 'boolean'] as const) {
    if (types.includes(kind)) return kind;
  }
  // A nullable or alternative type: the first branch that is not null decides.
  for (const key of ['anyOf', 'oneOf']) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const record = asRecord(branch);
      if (record !== undefined && record['type'] !== 'null') return kindOf(record);
    }
  }
  return 'other';
}

function enumOf(schema: Record<string, unknown>): readonly unknown[] {
  if (Array.isArray(schema['enum'])) return schema['enum'];
  for (const key of ['anyOf', 'oneOf']) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const values = asRecord(branch)?.['enum'];
      if (Array.isArray(values)) return values;
    }
  }
  return [];
}

/** The properties of a tool's input schema, required ones first, each group in schema order. */
export function toolProperties(tool: ToolSpec): PropertyInfo[] {
  const properties = asRecord(tool.inputSchema['properties']) ?? {};
  const requiredList = tool.inputSchema['required'];
  const required = new Set(
    Array.isArray(requiredList) ? requiredList.filter((r) => typeof r === 'string') : [],
  );
  const infos = Object.entries(properties).map(([name, raw]): PropertyInfo => {
    const schema = asRecord(raw) ?? {};
    const enumValues = enumOf(schema);
    const description = schema['description'];
    return {
      name,
      words: nameWords(name),
      kind: enumValues.length > 0 ? 'enum' : kindOf(schema),
      required: required.has(name),
      enumValues,
      description: typeof description === 'string' ? description : '',
      default: schema['default'],
      hasDefault: 'default' in schema,
    };
  });
  return [...infos.filter((p) => p.required), ...infos.filter((p) => !p.required)];
}

/** The words of every string enum value of a tool's properties. */
export function enumWords(tool: ToolSpec): string[] {
  return toolProperties(tool).flatMap((p) =>
    p.enumValues.filter((v) => typeof v === 'string' || typeof v === 'number').map(String),
  );
}

/** `id` and `<thing>_id`: values only an id token or a finder tool can supply. */
export function isIdProperty(property: PropertyInfo): boolean {
  return property.words.at(-1) === 'id' || property.words.at(-1) === 'uuid';
}

/** Properties that hold a code rather than prose: ids, SKUs, references. */
export function isCodeProperty(property: PropertyInfo): boolean {
  const last = property.words.at(-1) ?? '';
  return isIdProperty(property) || ['sku', 'code', 'ref', 'reference', 'number'].includes(last);
}

const QUERY_WORDS = new Set(['query', 'q', 'search', 'term', 'keyword', 'keywords', 'text']);

/** Properties that take free text to look something up by: `query`, `name`, `customer_name`. */
export function isQueryProperty(property: PropertyInfo): boolean {
  return (
    property.words.some((w) => QUERY_WORDS.has(w)) ||
    property.words.at(-1) === 'name' ||
    property.words.at(-1) === 'filter'
  );
}

const REASON_WORDS = new Set([
  'reason',
  'justification',
  'comment',
  'note',
  'notes',
  'explanation',
  'rationale',
  'why',
  'memo',
]);

/** Properties that take an explanation: `reason`, `comment`, `note`. */
export function isReasonProperty(property: PropertyInfo): boolean {
  return property.words.some((w) => REASON_WORDS.has(w));
}
