import type { ContentPart } from '@toolbus/contracts';
import { asRecord } from './tool-schema.js';

type ToolResultPart = Extract<ContentPart, { type: 'tool_result' }>;

/** A tool result as the planner reads it: its text, and the JSON inside when there is some. */
export interface ReadResult {
  text: string;
  json: unknown;
  isJson: boolean;
}

/** Keeps answers readable when a tool returns a lot. */
const MAX_ITEMS = 10;
const MAX_TEXT = 1_000;

/** Joins a tool result's text parts and parses them as JSON when they are JSON. */
export function readResult(part: ToolResultPart): ReadResult {
  const text = part.content
    .map((c) => c.text)
    .join('\n')
    .trim();
  try {
    return { text, json: JSON.parse(text) as unknown, isJson: true };
  } catch {
    return { text, json: undefined, isJson: false };
  }
}

/** The message of a failed tool call: a structured error's `message`, or the text itself. */
export function errorMessage(result: ReadResult): string {
  const record = asRecord(result.json);
  const nested = asRecord(record?.['error']);
  for (const candidate of [nested?.['message'], record?.['message'], record?.['error']]) {
    if (typeof candidate === 'string' && candidate.length > 0) return clip(candidate);
  }
  return result.text.length > 0 ? clip(result.text) : 'no message';
}

/** The list of matches in a finder's result: the array itself, or the first array inside it. */
function matchesOf(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json;
  const record = asRecord(json);
  if (record === undefined) return undefined;
  for (const value of Object.values(record)) if (Array.isArray(value)) return value;
  return [record];
}

/** What a finder found: the id of its first match, how many matched, and the match's name. */
export interface FoundId {
  id: string | number;
  count: number;
  name: string | undefined;
}

/**
 * Takes the id out of a finder's result: `id` of the first match, else the `<thing>_id` field
 * named like the wanted property, else any `_id` field. Undefined when nothing matched.
 */
export function extractId(result: ReadResult, idProperty: string): FoundId | undefined {
  if (!result.isJson) return undefined;
  const matches = matchesOf(result.json);
  const first = asRecord(matches?.[0]);
  if (matches === undefined || first === undefined) return undefined;
  const isId = (v: unknown): v is string | number =>
    (typeof v === 'string' && v.length > 0) || typeof v === 'number';
  const keys = Object.keys(first);
  const key =
    keys.find((k) => k === 'id' && isId(first[k])) ??
    keys.find((k) => k === idProperty && isId(first[k])) ??
    keys.find((k) => /(^|_)id$|Id$/.test(k) && isId(first[k]));
  const id = key === undefined ? undefined : first[key];
  if (!isId(id)) return undefined;
  return { id, count: matches.length, name: nameOf(first) };
}

/** The field that names a record, and its value: `name`, else `display_name`, `title`... */
function nameField(record: Record<string, unknown>): [string, string] | undefined {
  for (const key of ['name', 'display_name', 'displayName', 'full_name', 'title', 'label']) {
    const value = record[key];
    if (typeof value === 'string' && value.length > 0) return [key, value];
  }
  return undefined;
}

function nameOf(record: Record<string, unknown>): string | undefined {
  return nameField(record)?.[1];
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/** `credit_limit` and `creditLimit` both read as "credit limit". */
export function keyWords(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim();
}

/** Numbers of 1,000 and more get thousands separators; years and ids stay as they are. */
export function formatNumber(value: number, key = ''): string {
  if (Math.abs(value) < 1000 || /year|(^|_)id$|Id$|code|zip|postal/.test(key)) return String(value);
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 }).format(value);
}

const isIdKey = (key: string) => key === 'id' || /_id$|Id$/.test(key);
const MONEY_KEY = /limit|amount|price|balance|total|cost|value|revenue|credit|due|paid|fee|budget/i;

function renderValue(value: unknown, key: string, depth: number): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'number') return formatNumber(value, key);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return clip(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    const shown = value.slice(0, MAX_ITEMS).map((v) => renderItem(v, key, depth + 1, true));
    const more = value.length > MAX_ITEMS ? `, and ${value.length - MAX_ITEMS} more` : '';
    return `${shown.join('; ')}${more}`;
  }
  const record = asRecord(value);
  if (record === undefined) return clip(JSON.stringify(value));
  return depth >= 2 ? clip(JSON.stringify(record)) : `(${renderFields(record, depth + 1)})`;
}

/**
 * One element of a list: its name with its other fields, e.g. "Acme Corp (id cus_001)";
 * in parentheses when the list is itself a field, so its fields do not run into the record's.
 */
function renderItem(value: unknown, key: string, depth: number, nested = false): string {
  const record = asRecord(value);
  if (record === undefined) return renderValue(value, key, depth);
  const named = nameField(record);
  const fields = renderFields(record, depth, named?.[0]);
  let text = fields;
  if (named !== undefined) {
    text =
      fields.length === 0
        ? named[1]
        : fields.startsWith('(')
          ? `${named[1]} ${fields}`
          : `${named[1]}: ${fields}`;
  }
  return nested && !text.startsWith('(') ? `(${text})` : text;
}

/**
 * The fields of an object as prose: an amount with its currency ("credit limit 50,000 USD"),
 * other fields as "key: value", ids last in parentheses ("(customer_id cus_001)").
 */
function renderFields(record: Record<string, unknown>, depth: number, skip?: string): string {
  const entries = Object.entries(record).filter(([k]) => k !== skip);
  const ids = entries.filter(
    ([k, v]) => isIdKey(k) && (typeof v === 'string' || typeof v === 'number'),
  );
  const currency = typeof record['currency'] === 'string' ? record['currency'] : undefined;
  const numeric = entries.filter(([k, v]) => typeof v === 'number' && !isIdKey(k));
  const moneyKeys = new Set(
    currency === undefined
      ? []
      : numeric.some(([k]) => MONEY_KEY.test(k))
        ? numeric.filter(([k]) => MONEY_KEY.test(k)).map(([k]) => k)
        : numeric.slice(0, 1).map(([k]) => k),
  );

  const pairs: string[] = [];
  for (const [key, value] of entries) {
    if (ids.some(([k]) => k === key)) continue;
    if (key === 'currency' && moneyKeys.size > 0) continue;
    if (moneyKeys.has(key) && typeof value === 'number') {
      pairs.push(`${keyWords(key)} ${formatNumber(value, key)} ${currency ?? ''}`.trim());
    } else {
      pairs.push(`${keyWords(key)}: ${renderValue(value, key, depth)}`);
    }
  }
  const idText = ids.map(([k, v]) => `${k} ${String(v)}`).join(', ');
  if (idText.length === 0) return pairs.join(', ');
  return pairs.length === 0 ? `(${idText})` : `${pairs.join(', ')} (${idText})`;
}

/**
 * Renders a tool result for a person, e.g. `get_credit_limit for Acme Corp: credit limit
 * 50,000 USD (customer_id cus_001)`. Only what the tool returned appears; nothing is made up.
 */
export function renderResult(toolName: string, result: ReadResult, subject?: string): string {
  if (!result.isJson) {
    return result.text.length === 0
      ? `${toolName} returned nothing.`
      : `${toolName} returned: "${clip(result.text)}".`;
  }
  const json = result.json;
  if (Array.isArray(json)) {
    if (json.length === 0) return `${toolName} found nothing.`;
    const shown = json.slice(0, MAX_ITEMS).map((item) => renderItem(item, '', 1));
    const more = json.length > MAX_ITEMS ? `; and ${json.length - MAX_ITEMS} more` : '';
    const noun = json.length === 1 ? 'result' : 'results';
    return `${toolName} found ${json.length} ${noun}: ${shown.join('; ')}${more}.`;
  }
  const record = asRecord(json);
  if (record === undefined) return `${toolName} returned ${renderValue(json, '', 0)}.`;
  const named = nameField(record);
  const name = named?.[1] ?? subject;
  const fields = renderFields(record, 0, named?.[0]);
  const head = name === undefined ? toolName : `${toolName} for ${name}`;
  if (fields.length === 0) return `${head} returned an empty result.`;
  return fields.startsWith('(') ? `${head} ${fields}.` : `${head}: ${fields}.`;
}
