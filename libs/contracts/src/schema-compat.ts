import { jsonPointer } from './cloudevents.js';

/** A JSON Schema (draft 2020-12) as read from a file. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** One change from a released schema to the current one that breaks its consumers. */
export interface BreakingChange {
  /** JSON pointer into the released schema, e.g. `/properties/principal/properties/kind`. */
  path: string;
  change: string;
}

type Node = { readonly [keyword: string]: unknown };
type Path = readonly string[];

/** Keywords that document and do not validate: changing them breaks nobody. */
const ANNOTATIONS = new Set([
  '$id',
  '$schema',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/** Keywords the comparison understands; any other validating keyword must stay as it was. */
const UNDERSTOOD = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'oneOf',
  'anyOf',
  'format',
  'pattern',
  'multipleOf',
  'uniqueItems',
  ...['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'],
  ...['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'],
]);
const LOWER_BOUNDS = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'];

/**
 * The changes from `released` to `current` that break a consumer of the released schema. The
 * rule: everything valid under the released schema stays valid under the current one (so a
 * producer of the released version is still understood), and no property it documented
 * disappears (a removed or renamed field silently loses meaning). So breaking are: a property
 * removed or renamed, a new required property, a type narrowed or changed, an enum or const
 * value removed, `additionalProperties` tightened, a format, pattern, length, range or item
 * bound added or tightened, a union branch no longer accepted. Not breaking: a new optional
 * property, a widened type, a new enum value, a loosened bound, documentation. A validating
 * keyword the comparison does not understand must stay as it was.
 */
export function breakingSchemaChanges(released: JsonSchema, current: JsonSchema): BreakingChange[] {
  const out: BreakingChange[] = [];
  compare(released, current, [], out);
  return out;
}

function compare(released: JsonSchema, current: JsonSchema, path: Path, out: BreakingChange[]) {
  const report = (change: string, at: Path = path) => out.push({ path: jsonPointer(at), change });
  if (released === false || current === true) return;
  if (current === false) return report('accepts nothing any more');
  const was: Node = released === true ? {} : released;
  const now: Node = current;
  if (unionOf(was) || unionOf(now)) return compareUnion(was, now, path, out);
  compareTypes(was, now, report);
  compareValues(was, now, report);
  compareStringsAndBounds(was, now, report);
  compareObjects(was, now, path, out, report);
  if (now['items'] !== undefined)
    compare(asSchema(was['items']), asSchema(now['items']), [...path, 'items'], out);
  for (const keyword of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-') || UNDERSTOOD.has(keyword)) continue;
    if (!sameJson(was[keyword], now[keyword])) {
      report(`${keyword} changed, and this check cannot tell whether that is compatible`);
    }
  }
}

type Report = (change: string, at?: Path) => void;

const JSON_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

function typesOf(schema: Node): string[] | undefined {
  const type = schema['type'];
  if (type === undefined) return undefined;
  return Array.isArray(type) ? (type as string[]) : [type as string];
}

function compareTypes(was: Node, now: Node, report: Report) {
  const after = typesOf(now);
  if (!after) return;
  const before = typesOf(was) ?? JSON_TYPES;
  const accepted = (t: string) =>
    after.includes(t) || (t === 'integer' && after.includes('number'));
  const lost = before.filter((t) => !accepted(t));
  if (lost.length === 0) return;
  report(
    `type narrowed from ${before.join(' | ')} to ${after.join(' | ')}: ${lost.join(', ')} no longer accepted`,
  );
}

function valuesOf(schema: Node): unknown[] | undefined {
  if ('const' in schema) return [schema['const']];
  return Array.isArray(schema['enum']) ? (schema['enum'] as unknown[]) : undefined;
}

function compareValues(was: Node, now: Node, report: Report) {
  const after = valuesOf(now);
  if (!after) return;
  const before = valuesOf(was);
  if (!before) return report(`values restricted to ${show(after)}`);
  for (const value of before) {
    if (!after.some((v) => sameJson(v, value))) report(`value ${JSON.stringify(value)} removed`);
  }
}

function compareStringsAndBounds(was: Node, now: Node, report: Report) {
  for (const keyword of ['format', 'pattern']) {
    const [before, after] = [was[keyword], now[keyword]];
    if (after === undefined || after === before) continue;
    report(
      before === undefined
        ? `${keyword} ${JSON.stringify(after)} added`
        : `${keyword} changed from ${JSON.stringify(before)} to ${JSON.stringify(after)}`,
    );
  }
  for (const keyword of [...LOWER_BOUNDS, ...UPPER_BOUNDS]) {
    const [before, after] = [was[keyword], now[keyword]];
    if (typeof after !== 'number') continue;
    if (typeof before !== 'number') {
      report(`${keyword} ${after} added`);
    } else if (LOWER_BOUNDS.includes(keyword) ? after > before : after < before) {
      report(`${keyword} tightened from ${before} to ${after}`);
    }
  }
  const [stepBefore, stepAfter] = [was['multipleOf'], now['multipleOf']];
  if (typeof stepAfter === 'number' && stepBefore !== stepAfter) {
    const divides = typeof stepBefore === 'number' && Number.isInteger(stepBefore / stepAfter);
    if (!divides)
      report(
        `multipleOf ${stepAfter} ${stepBefore === undefined ? 'added' : `replaces ${String(stepBefore)}`}`,
      );
  }
  if (now['uniqueItems'] === true && was['uniqueItems'] !== true) report('uniqueItems added');
}

function compareObjects(was: Node, now: Node, path: Path, out: BreakingChange[], report: Report) {
  const before = (was['properties'] ?? {}) as Record<string, JsonSchema>;
  const after = (now['properties'] ?? {}) as Record<string, JsonSchema>;
  for (const [name, schema] of Object.entries(before)) {
    const at = [...path, 'properties', name];
    if (!(name in after)) report('property removed (or renamed)', at);
    else compare(schema, after[name]!, at, out);
  }
  const required = new Set((was['required'] ?? []) as string[]);
  for (const name of (now['required'] ?? []) as string[]) {
    if (required.has(name)) continue;
    report(
      name in before ? `property "${name}" became required` : `new required property "${name}"`,
    );
  }
  const extraBefore = asSchema(was['additionalProperties']);
  const extraAfter = now['additionalProperties'];
  if (extraAfter === false && extraBefore !== false) {
    report('additionalProperties tightened: properties the schema does not name are refused now');
  } else if (extraAfter !== undefined) {
    compare(extraBefore, asSchema(extraAfter), [...path, 'additionalProperties'], out);
  }
  // Object keys are strings anyway: an absent propertyNames is `{ type: 'string' }`.
  const names = (s: Node) => asSchema(s['propertyNames'] ?? { type: 'string' });
  if (now['propertyNames'] !== undefined)
    compare(names(was), names(now), [...path, 'propertyNames'], out);
}

function unionOf(schema: Node): 'oneOf' | 'anyOf' | undefined {
  if (Array.isArray(schema['oneOf'])) return 'oneOf';
  return Array.isArray(schema['anyOf']) ? 'anyOf' : undefined;
}

/** A schema as the alternatives it allows; keywords beside `oneOf`/`anyOf` apply to each. */
function branchesOf(schema: Node): JsonSchema[] {
  const keyword = unionOf(schema);
  if (!keyword) return [schema];
  const { [keyword]: branches, ...rest } = schema;
  return (branches as JsonSchema[]).map((b) => (typeof b === 'boolean' ? b : { ...rest, ...b }));
}

/**
 * Each alternative of the released schema must still be accepted by some alternative of the
 * current one (`oneOf` and `anyOf` alike: zod's unions are exclusive). An alternative that none
 * accepts is reported with the changes of its closest current match.
 */
function compareUnion(was: Node, now: Node, path: Path, out: BreakingChange[]) {
  const keyword = unionOf(was);
  const candidates = branchesOf(now);
  branchesOf(was).forEach((branch, i) => {
    const at = keyword ? [...path, keyword, String(i)] : path;
    let closest: BreakingChange[] | undefined;
    for (const candidate of candidates) {
      const changes: BreakingChange[] = [];
      compare(branch, candidate, at, changes);
      if (!closest || changes.length < closest.length) closest = changes;
      if (changes.length === 0) return;
    }
    out.push(...(closest ?? [{ path: jsonPointer(at), change: 'alternative no longer accepted' }]));
  });
}

function asSchema(value: unknown): JsonSchema {
  if (value === undefined) return true;
  return value as JsonSchema;
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with object keys sorted, so key order never counts as a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function show(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

const TYPE = /^dev\.toolbus\.(.+)\.v([0-9]+)$/;

/**
 * Compares the schemas exported at a release (file name to schema) with the current export and
 * returns one line per problem, naming the message and what broke. A message is matched by its
 * `x-cloudevents-type`, so a breaking change is allowed only as a new version beside the
 * released one; a released version may be retired only once a newer version of it was released
 * too (so producers and consumers had a release in which both versions existed).
 * Shared schemas (no CloudEvents type) are matched by file name and have no version to bump.
 */
export function releaseCompatProblems(
  release: string,
  released: Record<string, JsonSchema>,
  current: Record<string, JsonSchema>,
): string[] {
  const typeOf = (schema: JsonSchema) =>
    typeof schema === 'object' && typeof schema['x-cloudevents-type'] === 'string'
      ? schema['x-cloudevents-type']
      : undefined;
  const byType = (schemas: Record<string, JsonSchema>) => {
    const out = new Map<string, JsonSchema>();
    for (const schema of Object.values(schemas)) {
      const type = typeOf(schema);
      if (type) out.set(type, schema);
    }
    return out;
  };
  const [releasedByType, currentByType] = [byType(released), byType(current)];
  const problems: string[] = [];
  for (const [file, schema] of Object.entries(released).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const type = typeOf(schema);
    const match = type ? TYPE.exec(type) : null;
    const now = type ? currentByType.get(type) : current[file];
    if (now === undefined) {
      if (!type) {
        problems.push(`${file} (released in ${release}) was removed`);
      } else if (
        !match ||
        !hasNewerVersion(releasedByType, match[1]!, Number(match[2])) ||
        !hasNewerVersion(currentByType, match[1]!, Number(match[2]))
      ) {
        // Retiring a version waits until its successor has shipped beside it in a release.
        problems.push(
          `${type} (released in ${release}) was removed before a newer version of it was released beside it`,
        );
      }
      continue;
    }
    const changes = breakingSchemaChanges(schema, now);
    if (changes.length === 0) continue;
    const what = changes.map((c) => `${c.path}: ${c.change}`).join('; ');
    const fix = match
      ? `declare ${match[1]} v${Number(match[2]) + 1} beside v${match[2]} instead (docs/contracts.md)`
      : 'it is not a versioned message: keep it compatible or publish it under a new name';
    problems.push(`${type ?? file} changed incompatibly since ${release}: ${what}; ${fix}`);
  }
  return problems;
}

function hasNewerVersion(types: Map<string, JsonSchema>, name: string, version: number): boolean {
  for (const type of types.keys()) {
    const m = TYPE.exec(type);
    if (m && m[1] === name && Number(m[2]) > version) return true;
  }
  return false;
}
