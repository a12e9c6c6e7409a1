/**
 * What the offline planner reads out of a question: its meaningful words, ids, numbers, quoted
 * strings, a "because ..." reason, named entities and whether it asks for a change. Everything
 * keeps its character span so that one piece of the question fills at most one argument.
 */

/** A stretch of the question, `start` inclusive and `end` exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** A word of the question with its position. */
export interface WordToken extends Span {
  /** Lower-cased, apostrophe suffix dropped ("what's" → "what"). */
  word: string;
  stem: string;
  /** First word of its sentence. */
  sentenceStart: boolean;
}

/** An id-looking token such as `cus_001`, `SKU-42`, `#123` or a UUID. */
export interface IdToken extends Span {
  /** The id as a tool would take it (`#123` → `123`). */
  value: string;
  /** Lower-case letters before the first separator (`cus` for `cus_001`), empty for `#123`. */
  prefix: string;
  numeric: boolean;
}

/** A number written in the question ("50,000", "50k", "$1.2m"). */
export interface NumberToken extends Span {
  value: number;
}

/** A string found in the question (quoted text, a reason, a named entity). */
export interface TextToken extends Span {
  value: string;
}

/** Everything the planner reads out of one question. */
export interface Question {
  text: string;
  /** Meaningful words (stop words, ids and numbers left out). */
  words: WordToken[];
  stems: Set<string>;
  ids: IdToken[];
  numbers: NumberToken[];
  quoted: TextToken[];
  /** The clause after "because", "due to"... */
  reason: TextToken | undefined;
  /** Canonical write verbs used as commands ("Set the limit..." → `update`). */
  writeVerbs: Set<string>;
}

const STOP_WORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before ' +
    'being below between both but by can could did do does doing down during each few for from ' +
    'further had has have having he her here hers him his how i if in into is it its itself just ' +
    'let lets me more most my no nor not now of off on once only or other our ours out over own ' +
    'please same she should so some such than that the their theirs them then there these they ' +
    'this those through to too under until up very was we were what when where which while who ' +
    'whom why will with would you your yours tell give know want need like much many thank thanks ' +
    'hi hello hey kindly currently right whats ok okay via per'
  ).split(' '),
);

/**
 * Verbs of tools that change something, grouped under one canonical verb so that "set",
 * "increase" and "update" all point at an `update_*` tool.
 */
const WRITE_VERB_GROUPS: Record<string, string[]> = {
  update: [
    'update',
    'change',
    'set',
    'modify',
    'edit',
    'adjust',
    'increase',
    'decrease',
    'raise',
    'lower',
    'reduce',
  ],
  delete: ['delete', 'remove', 'erase', 'purge'],
  create: ['create', 'add', 'register', 'insert'],
  reserve: ['reserve', 'book', 'allocate'],
  cancel: ['cancel', 'void', 'revoke'],
  approve: ['approve', 'reject', 'grant', 'deny'],
  send: ['send', 'submit', 'post', 'notify'],
  pay: ['pay', 'refund', 'charge'],
  assign: ['assign', 'transfer', 'move', 'ship', 'close', 'archive', 'restore', 'block'],
  enable: ['enable', 'disable', 'activate', 'deactivate'],
  write: ['write', 'put', 'patch', 'upsert'],
};

/** Verbs of tools that only read. */
const READ_VERBS = [
  'get',
  'find',
  'list',
  'search',
  'fetch',
  'lookup',
  'look',
  'show',
  'read',
  'query',
  'describe',
  'check',
  'count',
  'view',
  'retrieve',
  'browse',
  'calculate',
  'compute',
];

/** Words after which a verb is a command: "please update", "can you set", "want to reserve". */
const COMMAND_LEADS = new Set(
  'please kindly to you we i and then also just now can could would will should must lets let'.split(
    ' ',
  ),
);

/**
 * Reduces a word to a crude stem: plural, -ing and -ed endings and a final e go, so that
 * "customers"/"customer", "pricing"/"price" and "updated"/"update" meet.
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && /(ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

const writeVerbOfStem = new Map<string, string>();
for (const [canonical, verbs] of Object.entries(WRITE_VERB_GROUPS)) {
  for (const verb of verbs) writeVerbOfStem.set(stem(verb), canonical);
}
const readVerbStems = new Set(READ_VERBS.map(stem));

/** The canonical write verb a word stands for (`increase` → `update`), if it is one. */
export function writeVerbOf(word: string): string | undefined {
  return writeVerbOfStem.get(stem(word));
}

/** Whether a word is a read verb such as get, find or list. */
export function isReadVerb(word: string): boolean {
  return readVerbStems.has(stem(word));
}

/** Whether a word carries no meaning for matching (stop words and one-letter words). */
export function isStopWord(word: string): boolean {
  return word.length < 2 || STOP_WORDS.has(word.toLowerCase());
}

/** Splits a tool or property name into lower-case words: `get_credit_limit`, `newLimit`. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** The stems of the meaningful words of a text (descriptions, enum values). */
export function meaningfulStems(text: string): Set<string> {
  return new Set(
    wordTokens(text)
      .filter((t) => !isStopWord(t.word) && !/^\d+$/.test(t.word))
      .map((t) => t.stem),
  );
}

/** Whether a span overlaps any of the given spans. */
export function overlapsAny(span: Span, spans: readonly Span[]): boolean {
  return spans.some((s) => span.start < s.end && s.start < span.end);
}

/** Every word of a text with its position, stem and whether it starts a sentence. */
export function wordTokens(text: string): WordToken[] {
  const tokens: WordToken[] = [];
  let previousEnd = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu)) {
    const start = match.index;
    const word = match[0].toLowerCase().replace(/['’].*$/, '');
    const sentenceStart = tokens.length === 0 || /[.?!:;\n]/.test(text.slice(previousEnd, start));
    tokens.push({ start, end: start + match[0].length, word, stem: stem(word), sentenceStart });
    previousEnd = start + match[0].length;
  }
  return tokens;
}

function idTokens(text: string): IdToken[] {
  const ids: IdToken[] = [];
  const add = (start: number, end: number, value: string, prefix: string, numeric: boolean) => {
    if (!overlapsAny({ start, end }, ids)) ids.push({ start, end, value, prefix, numeric });
  };
  for (const m of text.matchAll(
    /(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])/gi,
  )) {
    add(m.index, m.index + m[0].length, m[0], '', false);
  }
  // A letter prefix, a separator and a digit somewhere: cus_001, SKU-42, INV-2024-001.
  for (const m of text.matchAll(/(?<![\w-])[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+(?![\w-])/g)) {
    if (!/\d/.test(m[0])) continue;
    const prefix = (/^[A-Za-z]+/.exec(m[0])?.[0] ?? '').toLowerCase();
    add(m.index, m.index + m[0].length, m[0], prefix, false);
  }
  for (const m of text.matchAll(/(?<![\w#])#(\d+)(?!\w)/g)) {
    add(m.index, m.index + m[0].length, m[1] ?? '', '', true);
  }
  return ids.sort((a, b) => a.start - b.start);
}

const MULTIPLIERS: Record<string, number> = {
  k: 1e3,
  thousand: 1e3,
  m: 1e6,
  million: 1e6,
  bn: 1e9,
  billion: 1e9,
};

function numberTokens(text: string, exclude: readonly Span[]): NumberToken[] {
  const numbers: NumberToken[] = [];
  const pattern =
    /(?<![\w.,$€£¥-])[$€£¥]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s?(thousand|million|billion|bn|k|m)(?![a-z]))?(?!\w)/gi;
  for (const m of text.matchAll(pattern)) {
    const span = { start: m.index, end: m.index + m[0].length };
    if (overlapsAny(span, exclude)) continue;
    const base = Number(`${(m[1] ?? '').replace(/,/g, '')}${m[2] ?? ''}`);
    const multiplier = MULTIPLIERS[(m[3] ?? '').toLowerCase()] ?? 1;
    // Multiplying a decimal (1.2 × 1e6) can leave binary noise; the question never means it.
    const value = Math.round(base * multiplier * 1e6) / 1e6;
    if (Number.isFinite(value)) numbers.push({ ...span, value });
  }
  return numbers;
}

function quotedStrings(text: string): TextToken[] {
  const quoted: TextToken[] = [];
  // Single quotes only count at word edges, so "Acme's limit" is not the start of a quote.
  const pattern = /"([^"\n]+)"|“([^”\n]+)”|‘([^’\n]+)’|(?<![\w])'([^'\n]+)'(?!\w)/g;
  for (const m of text.matchAll(pattern)) {
    const value = (m[1] ?? m[2] ?? m[3] ?? m[4] ?? '').trim();
    if (value.length > 0) quoted.push({ start: m.index, end: m.index + m[0].length, value });
  }
  return quoted;
}

function reasonClause(text: string): TextToken | undefined {
  const m = /\b(?:because(?:\s+of)?|due\s+to|the\s+reason\s+is|reason:)\s+([^.?!\n]+)/i.exec(text);
  const clause = m?.[1]?.trim();
  if (m === null || clause === undefined || clause.length === 0) return undefined;
  const start = m.index + m[0].length - (m[1] ?? '').length;
  return { start, end: start + (m[1] ?? '').length, value: clause };
}

function commandVerbs(words: readonly WordToken[]): Set<string> {
  const verbs = new Set<string>();
  words.forEach((token, i) => {
    const verb = writeVerbOfStem.get(token.stem);
    if (verb === undefined) return;
    const previous = i > 0 ? words[i - 1] : undefined;
    // "What is the limit set for Acme?" uses "set" but asks for nothing to change.
    if (token.sentenceStart || (previous !== undefined && COMMAND_LEADS.has(previous.word))) {
      verbs.add(verb);
    }
  });
  return verbs;
}

/** Reads a question once; the planner then matches tools and fills arguments from the result. */
export function analyzeQuestion(text: string): Question {
  const ids = idTokens(text);
  const quoted = quotedStrings(text);
  const numbers = numberTokens(text, [...ids, ...quoted]);
  const allWords = wordTokens(text);
  const words = allWords.filter(
    (t) => !isStopWord(t.word) && !/^\d+$/.test(t.word) && !overlapsAny(t, [...ids, ...numbers]),
  );
  return {
    text,
    words,
    // An id's letters say what it is: SKU-42 is about a SKU.
    stems: new Set([
      ...words.map((t) => t.stem),
      ...ids.filter((id) => id.prefix.length >= 2).map((id) => stem(id.prefix)),
    ]),
    ids,
    numbers,
    quoted,
    reason: reasonClause(text),
    writeVerbs: commandVerbs(allWords),
  };
}

const NAME_CONNECTORS = new Set(['of', '&', 'de', 'del', 'van', 'von', 'der', 'du', 'la', 'le']);

/**
 * Named entities: runs of Capitalized words ("Acme Corp", "Bank of America"). At the start of
 * a sentence only a run of two or more words that does not open with a common word ("What",
 * "Set") counts, and nothing inside `exclude` (ids, used enum values) is part of a name.
 */
export function namedEntities(text: string, exclude: readonly Span[]): TextToken[] {
  const entities: TextToken[] = [];
  let run:
    | { start: number; end: number; parts: string[]; pending: string[]; atStart: boolean }
    | undefined;
  const close = () => {
    // One capitalized word opening a sentence ("Status of order 7?") is not clearly a name.
    if (run !== undefined && run.parts.length > (run.atStart ? 1 : 0)) {
      entities.push({ start: run.start, end: run.end, value: run.parts.join(' ') });
    }
    run = undefined;
  };
  let previousRaw = '';
  for (const m of text.matchAll(/\S+/g)) {
    const raw = m[0];
    const sentenceStart = previousRaw === '' || /[.?!:;]["')\]]*$/.test(previousRaw);
    previousRaw = raw;
    const lead = /^[("'“‘[]*/.exec(raw)?.[0].length ?? 0;
    let word = raw.slice(lead);
    const possessive = /['’]s[^\p{L}\p{N}]*$/u.test(word);
    if (possessive) word = word.replace(/['’]s[^\p{L}\p{N}]*$/u, '');
    const trailing = /[^\p{L}\p{N}&]+$/u.exec(word)?.[0] ?? '';
    word = word.slice(0, word.length - trailing.length);
    const start = m.index + lead;
    const span = { start, end: start + word.length };
    const endsRun = possessive || trailing.length > 0;

    const capitalized =
      /^\p{Lu}[\p{L}\p{N}&.'’-]*$/u.test(word) &&
      word !== 'I' &&
      !overlapsAny(span, exclude) &&
      !(sentenceStart && isCommonWord(word));
    if (capitalized) {
      run ??= { start: span.start, end: span.end, parts: [], pending: [], atStart: sentenceStart };
      run.parts.push(...run.pending, word);
      run.pending = [];
      run.end = span.end;
      if (endsRun) close();
    } else if (run !== undefined && NAME_CONNECTORS.has(word.toLowerCase()) && !endsRun) {
      run.pending.push(word);
    } else {
      close();
    }
  }
  close();
  return entities;
}

function isCommonWord(word: string): boolean {
  const lower = word.toLowerCase();
  return (
    STOP_WORDS.has(lower) ||
    writeVerbOfStem.has(stem(lower)) ||
    readVerbStems.has(stem(lower)) ||
    ['is', 'are', 'do', 'does', 'did', 'was', 'has', 'have', 'can', 'who', 'whats'].includes(lower)
  );
}
