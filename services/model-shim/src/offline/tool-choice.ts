import type { JsonObject, ToolSpec } from '@toolbus/contracts';
import {
  isReadVerb,
  isStopWord,
  meaningfulStems,
  namedEntities,
  nameWords,
  overlapsAny,
  stem,
  wordTokens,
  writeVerbOf,
  type IdToken,
  type Question,
  type Span,
  type TextToken,
} from './question.js';
import {
  asRecord,
  enumWords,
  isCodeProperty,
  isIdProperty,
  isQueryProperty,
  isReasonProperty,
  toolProperties,
  type PropertyInfo,
} from './tool-schema.js';

/** What the planner would do for a question, before looking at any tool result. */
export type Plan =
  | { kind: 'no_tools' }
  | { kind: 'no_fit'; offered: string[] }
  | { kind: 'missing'; tool: string; missing: string[] }
  | { kind: 'call'; tool: string; input: JsonObject }
  | {
      kind: 'find';
      /** The tool that answers the question, once the id is known. */
      tool: string;
      /** Its arguments so far; `idProperty` is still missing. */
      input: JsonObject;
      idProperty: string;
      idIsNumber: boolean;
      finder: string;
      finderInput: JsonObject;
      /** What the finder is asked to look up ("Acme Corp"). */
      lookup: string;
      /** The tool's property names in schema order, to lay the final input out in. */
      order: string[];
    };

interface ToolScore {
  tool: ToolSpec;
  index: number;
  score: number;
  write: boolean;
}

const NAME_HIT = 3;
const ENUM_HIT = 2;
const WRITE_VERB_HIT = 2;
const READ_VERB_HIT = 1;
const WRITE_INTENT_BONUS = 2;
const USABLE_BONUS = 2;

/** Whether a tool name sounds like it changes something (`update_*`, `reserve_*`...). */
function isWriteTool(name: string): boolean {
  return nameWords(name).some((w) => writeVerbOf(w) !== undefined);
}

function isFinderTool(name: string): boolean {
  const first = nameWords(name)[0] ?? '';
  return ['find', 'search', 'lookup'].includes(first);
}

/** Name words that say what a tool is about, verbs left out: `get_credit_limit` → credit, limit. */
function subjectWords(name: string): string[] {
  return nameWords(name).filter(
    (w) => !isStopWord(w) && !isReadVerb(w) && writeVerbOf(w) === undefined,
  );
}

/**
 * Scores a tool by the overlap of the question's words with its name, description and enum
 * values. A tool qualifies with one name word or two description words in common; a write tool
 * only when the question tells the planner to change something.
 */
function scoreTool(tool: ToolSpec, index: number, question: Question): ToolScore | undefined {
  const write = isWriteTool(tool.name);
  if (write && question.writeVerbs.size === 0) return undefined;

  const subjectStems = new Set(subjectWords(tool.name).map(stem));
  const nameHits = [...subjectStems].filter((s) => question.stems.has(s)).length;

  const verbs = nameWords(tool.name).filter((w) => !subjectStems.has(stem(w)));
  const verbStems = new Set(verbs.map(stem));
  let verbScore = 0;
  for (const verb of verbs) {
    const canonical = writeVerbOf(verb);
    if (canonical !== undefined && question.writeVerbs.has(canonical)) verbScore += WRITE_VERB_HIT;
    else if (canonical === undefined && question.stems.has(stem(verb))) verbScore += READ_VERB_HIT;
  }

  const descriptionStems = [...meaningfulStems(tool.description)].filter(
    (s) => !subjectStems.has(s) && !isReadVerb(s) && !verbStems.has(s),
  );
  const descriptionHits = descriptionStems.filter((s) => question.stems.has(s)).length;

  const enumStems = new Set(enumWords(tool).flatMap((v) => [...meaningfulStems(v)]));
  const enumHits = [...enumStems].filter((s) => question.stems.has(s)).length;

  if (nameHits === 0 && descriptionHits + enumHits < 2) return undefined;
  const score =
    nameHits * NAME_HIT +
    verbScore +
    descriptionHits +
    enumHits * ENUM_HIT +
    (write ? WRITE_INTENT_BONUS : 0);
  return { tool, index, score, write };
}

/** The result of filling one tool's arguments from the question. */
interface Filling {
  input: JsonObject;
  missing: PropertyInfo[];
  /** Spans of the question used for arguments. */
  used: Span[];
}

/** Whether an id token's letters point at a property: `cus_001` → `customer_id`, `SKU-42` → `sku`. */
function idMatchesProperty(id: IdToken, words: readonly string[]): boolean {
  if (id.prefix.length < 2) return false;
  return words.some((w) => w !== 'id' && (w.startsWith(id.prefix) || id.prefix.startsWith(w)));
}

function enumMention(
  property: PropertyInfo,
  question: Question,
  used: readonly Span[],
): { value: unknown; span: Span } | undefined {
  let best: { value: unknown; span: Span } | undefined;
  const words = wordTokens(question.text);
  for (const value of property.enumValues) {
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const text = String(value);
    const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/[\s_-]+/g, '[\\s_-]+');
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}_-])${escaped}(?![\\p{L}\\p{N}_-])`, 'giu');
    for (const m of question.text.matchAll(pattern)) {
      const span = { start: m.index, end: m.index + m[0].length };
      if (overlapsAny(span, used)) continue;
      if (best === undefined || span.start < best.span.start) best = { value, span };
      break;
    }
    // "shipped" still picks the value "ship"; only single-word values, to stay unambiguous.
    if (/^[\p{L}]+$/u.test(text)) {
      const target = stem(text);
      const hit = words.find((w) => w.stem === target && !overlapsAny(w, used));
      if (hit !== undefined && (best === undefined || hit.start < best.span.start)) {
        best = { value, span: { start: hit.start, end: hit.end } };
      }
    }
  }
  return best;
}

/** Fills a tool's arguments from the question; each piece of the question is used once. */
function fillArguments(tool: ToolSpec, question: Question): Filling {
  const properties = toolProperties(tool);
  const allWords = wordTokens(question.text);
  const used: Span[] = [];
  const values = new Map<string, unknown>();
  const open = (p: PropertyInfo) => !values.has(p.name);
  const take = (p: PropertyInfo, value: unknown, span?: Span) => {
    values.set(p.name, value);
    if (span !== undefined) used.push(span);
  };
  const freeIds = () => question.ids.filter((id) => !overlapsAny(id, used));
  const idValue = (p: PropertyInfo, id: IdToken): unknown =>
    p.kind === 'integer' || p.kind === 'number' ? Number(id.value) : id.value;
  const fitsId = (p: PropertyInfo, id: IdToken) =>
    p.kind === 'string' || p.kind === 'other' || id.numeric || /^\d+$/.test(id.value);

  // Ids whose letters name the property come first: cus_001 belongs to customer_id.
  for (const p of properties) {
    if (p.kind === 'enum' || p.kind === 'boolean') continue;
    const words = p.words.length === 1 && p.words[0] === 'id' ? nameWords(tool.name) : p.words;
    const id = freeIds().find((t) => fitsId(p, t) && idMatchesProperty(t, words));
    if (id !== undefined) take(p, idValue(p, id), id);
  }

  for (const p of properties.filter((q) => q.kind === 'enum' && open(q))) {
    const mention = enumMention(p, question, used);
    if (mention !== undefined) take(p, mention.value, mention.span);
  }

  // Any other id only where the question does not say it belongs to something else:
  // in "status of order #778", #778 is no customer_id.
  for (const p of properties.filter((q) => isCodeProperty(q) && open(q))) {
    const owners = new Set(
      [
        ...(p.words.length === 1 ? subjectWords(tool.name) : p.words),
        'id',
        'number',
        'no',
        'nr',
        'code',
      ].map(stem),
    );
    const owner = (span: Span): 'owner' | 'neutral' | 'other' => {
      const before = allWords.filter((w) => w.end <= span.start).at(-1);
      if (before === undefined || !/^[\s:]*$/.test(question.text.slice(before.end, span.start))) {
        return 'neutral';
      }
      if (owners.has(before.stem)) return 'owner';
      return isStopWord(before.word) ? 'neutral' : 'other';
    };
    const id = freeIds().find((t) => fitsId(p, t) && owner(t) !== 'other');
    if (id !== undefined) {
      take(p, idValue(p, id), id);
      continue;
    }
    if (!isIdProperty(p)) continue;
    // A bare number is an id only when the question says whose: "customer 12345", "order no 7".
    const number = question.numbers.find(
      (n) =>
        !overlapsAny(n, used) &&
        /^\d+$/.test(question.text.slice(n.start, n.end)) &&
        owner(n) === 'owner',
    );
    if (number !== undefined) {
      const raw = question.text.slice(number.start, number.end);
      take(p, p.kind === 'string' || p.kind === 'other' ? raw : number.value, number);
    }
  }

  for (const p of properties.filter(
    (q) => (q.kind === 'number' || q.kind === 'integer') && !isCodeProperty(q) && open(q),
  )) {
    const number = question.numbers.find(
      (n) => !overlapsAny(n, used) && (p.kind === 'number' || Number.isInteger(n.value)),
    );
    if (number !== undefined) take(p, number.value, number);
  }

  for (const p of properties.filter((q) => q.kind === 'boolean' && open(q))) {
    const stems = p.words.filter((w) => !isStopWord(w) && w !== 'is').map(stem);
    const mentioned = stems.length > 0 && stems.every((s) => question.stems.has(s));
    if (mentioned) take(p, true);
    else if (p.required) take(p, p.hasDefault ? p.default : false);
  }

  const entities = (): TextToken[] =>
    namedEntities(question.text, [...question.ids, ...question.quoted, ...used]);
  for (const p of properties.filter((q) => q.kind === 'string' && !isCodeProperty(q) && open(q))) {
    const quoted = question.quoted.find((t) => !overlapsAny(t, used));
    if (quoted !== undefined) {
      take(p, quoted.value, quoted);
      continue;
    }
    const reason = question.reason;
    if (isReasonProperty(p) && reason !== undefined && !overlapsAny(reason, used)) {
      take(p, reason.value, reason);
      continue;
    }
    // A name goes only where a name is asked for, or where the tool cannot do without one.
    if ((p.required && !isReasonProperty(p)) || isQueryProperty(p)) {
      const entity = entities()[0];
      if (entity !== undefined) take(p, entity.value, entity);
    }
  }

  for (const p of properties.filter((q) => q.required && open(q) && q.hasDefault)) {
    take(p, p.default);
  }

  // Schema order reads better in traces than the order the values were found in.
  const input: JsonObject = {};
  for (const name of Object.keys(asRecord(tool.inputSchema['properties']) ?? {})) {
    if (values.has(name)) input[name] = values.get(name);
  }
  const missing = properties.filter((p) => p.required && !values.has(p.name));
  return { input, missing, used };
}

/** The finder to look up a missing id with: `find_customer` for `customer_id` of `get_credit_limit`. */
function finderFor(
  tools: readonly ToolSpec[],
  target: ToolSpec,
  idProperty: PropertyInfo,
): { finder: ToolSpec; queryProperty: string } | undefined {
  const wanted = new Set(
    [...idProperty.words.filter((w) => w !== 'id'), ...subjectWords(target.name)].map(stem),
  );
  let best: { finder: ToolSpec; queryProperty: string; overlap: number } | undefined;
  for (const tool of tools) {
    if (tool.name === target.name || !isFinderTool(tool.name)) continue;
    const overlap = subjectWords(tool.name).filter((w) => wanted.has(stem(w))).length;
    if (overlap === 0) continue;
    const properties = toolProperties(tool);
    const strings = properties.filter((p) => p.kind === 'string');
    const query = strings.find(isQueryProperty) ?? strings.find((p) => p.required);
    if (query === undefined) continue;
    const otherRequired = properties.filter(
      (p) => p.required && p.name !== query.name && !p.hasDefault,
    );
    if (otherRequired.length > 0) continue;
    if (best === undefined || overlap > best.overlap) {
      best = { finder: tool, queryProperty: query.name, overlap };
    }
  }
  return best;
}

/**
 * Decides what to do for a question with the tools on offer: call a tool, look an id up with a
 * finder first, say which argument the question does not give, or say that no tool fits.
 */
export function planFor(question: Question, tools: readonly ToolSpec[]): Plan {
  if (tools.length === 0) return { kind: 'no_tools' };
  const scored = tools
    .map((tool, index) => scoreTool(tool, index, question))
    .filter((s): s is ToolScore => s !== undefined);
  if (scored.length === 0) return { kind: 'no_fit', offered: tools.map((t) => t.name) };

  // Best score wins, and a tool the question can fill (or whose id a finder can look up) gets a
  // little more; on a tie a read tool beats a write tool and the catalog order settles the rest,
  // so the choice is stable.
  const candidates = scored.map((s) => {
    const plan = resolve(question, tools, s.tool);
    const usable = plan.kind === 'call' || plan.kind === 'find';
    return { ...s, plan, rank: s.score + (usable ? USABLE_BONUS : 0) };
  });
  candidates.sort(
    (a, b) => b.rank - a.rank || Number(a.write) - Number(b.write) || a.index - b.index,
  );
  return candidates[0]?.plan ?? { kind: 'no_fit', offered: tools.map((t) => t.name) };
}

/** What calling one tool takes: its arguments, an id lookup first, or what is missing. */
function resolve(question: Question, tools: readonly ToolSpec[], tool: ToolSpec): Plan {
  const filling = fillArguments(tool, question);
  if (filling.missing.length === 0) return { kind: 'call', tool: tool.name, input: filling.input };

  const [first, ...rest] = filling.missing;
  if (first !== undefined && rest.length === 0 && isIdProperty(first)) {
    const found = finderFor(tools, tool, first);
    const excluded = [...question.ids, ...question.quoted, ...filling.used];
    const lookup =
      question.quoted.find((q) => !overlapsAny(q, filling.used)) ??
      namedEntities(question.text, excluded)[0];
    if (found !== undefined && lookup !== undefined) {
      return {
        kind: 'find',
        tool: tool.name,
        input: filling.input,
        idProperty: first.name,
        idIsNumber: first.kind === 'integer' || first.kind === 'number',
        finder: found.finder.name,
        finderInput: { [found.queryProperty]: lookup.value },
        lookup: lookup.value,
        order: Object.keys(asRecord(tool.inputSchema['properties']) ?? {}),
      };
    }
  }
  return { kind: 'missing', tool: tool.name, missing: filling.missing.map((p) => p.name) };
}
