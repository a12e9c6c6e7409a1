import { describe, expect, it } from 'vitest';
import { breakingSchemaChanges, releaseCompatProblems, type JsonSchema } from './schema-compat.js';

const obj = (properties: Record<string, JsonSchema>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
});
const str: JsonSchema = { type: 'string' };

/**
 * One rule per row: going from `before` to `after` breaks with `breaks` (pointer and change);
 * going back from `after` to `before` breaks with `reverse`, or is compatible when it is null.
 */
const rules: Array<{
  rule: string;
  before: JsonSchema;
  after: JsonSchema;
  breaks: [string, RegExp];
  reverse: [string, RegExp] | null;
}> = [
  {
    rule: 'a property removed (back: a new optional property)',
    before: obj({ a: str, b: str }),
    after: obj({ a: str }),
    breaks: ['/properties/b', /^property removed/],
    reverse: null,
  },
  {
    rule: 'a property renamed (either way)',
    before: obj({ customerId: str }),
    after: obj({ customer_id: str }),
    breaks: ['/properties/customerId', /^property removed \(or renamed\)$/],
    reverse: ['/properties/customer_id', /^property removed/],
  },
  {
    rule: 'a new required property (back: a property removed)',
    before: obj({ a: str }, ['a']),
    after: obj({ a: str, b: str }, ['a', 'b']),
    breaks: ['/', /^new required property "b"$/],
    reverse: ['/properties/b', /^property removed/],
  },
  {
    rule: 'an optional property made required (back: made optional)',
    before: obj({ a: str }),
    after: obj({ a: str }, ['a']),
    breaks: ['/', /^property "a" became required$/],
    reverse: null,
  },
  {
    rule: 'a type narrowed (back: widened)',
    before: obj({ a: { type: ['string', 'null'] } }),
    after: obj({ a: str }),
    breaks: ['/properties/a', /^type narrowed from string \| null to string: null no longer/],
    reverse: null,
  },
  {
    rule: 'a type changed (either way)',
    before: obj({ n: str }),
    after: obj({ n: { type: 'integer' } }),
    breaks: ['/properties/n', /^type narrowed from string to integer/],
    reverse: ['/properties/n', /^type narrowed from integer to string/],
  },
  {
    rule: 'number narrowed to integer (back: integer widened to number)',
    before: { type: 'number' },
    after: { type: 'integer' },
    breaks: ['/', /number no longer accepted/],
    reverse: null,
  },
  {
    rule: 'a type given to an untyped schema (back: the type dropped)',
    before: {},
    after: str,
    breaks: ['/', /^type narrowed from null \| boolean .* to string/],
    reverse: null,
  },
  {
    rule: 'an enum value removed (back: a new enum value)',
    before: { type: 'string', enum: ['user', 'service', 'api_key'] },
    after: { type: 'string', enum: ['user', 'service'] },
    breaks: ['/', /^value "api_key" removed$/],
    reverse: null,
  },
  {
    rule: 'a const changed (either way)',
    before: { type: 'string', const: 'http' },
    after: { type: 'string', const: 'mcp' },
    breaks: ['/', /^value "http" removed$/],
    reverse: ['/', /^value "mcp" removed$/],
  },
  {
    rule: 'values restricted by a new enum (back: the enum dropped)',
    before: str,
    after: { type: 'string', enum: ['a'] },
    breaks: ['/', /^values restricted to "a"$/],
    reverse: null,
  },
  {
    rule: 'additionalProperties tightened to false (back: opened)',
    before: obj({ a: str }),
    after: { ...obj({ a: str }), additionalProperties: false },
    breaks: ['/', /^additionalProperties tightened/],
    reverse: null,
  },
  {
    rule: 'additionalProperties narrowed (back: widened)',
    before: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
    after: { type: 'object', additionalProperties: str },
    breaks: ['/additionalProperties', /number no longer accepted/],
    reverse: null,
  },
  {
    rule: 'a format added (back: removed)',
    before: str,
    after: { type: 'string', format: 'date-time' },
    breaks: ['/', /^format "date-time" added$/],
    reverse: null,
  },
  {
    rule: 'a format changed (either way)',
    before: { type: 'string', format: 'uri' },
    after: { type: 'string', format: 'uuid' },
    breaks: ['/', /^format changed from "uri" to "uuid"$/],
    reverse: ['/', /^format changed from "uuid" to "uri"$/],
  },
  {
    rule: 'a pattern added (back: removed)',
    before: str,
    after: { type: 'string', pattern: '^[a-z]+$' },
    breaks: ['/', /^pattern "\^\[a-z\]\+\$" added$/],
    reverse: null,
  },
  {
    rule: 'a pattern changed (either way: regex containment is not decided)',
    before: { type: 'string', pattern: '^[a-z]+$' },
    after: { type: 'string', pattern: '^[a-z0-9]+$' },
    breaks: ['/', /^pattern changed from/],
    reverse: ['/', /^pattern changed from/],
  },
  {
    rule: 'minLength raised (back: lowered)',
    before: { type: 'string', minLength: 1 },
    after: { type: 'string', minLength: 8 },
    breaks: ['/', /^minLength tightened from 1 to 8$/],
    reverse: null,
  },
  {
    rule: 'maxLength lowered (back: raised)',
    before: { type: 'string', maxLength: 256 },
    after: { type: 'string', maxLength: 64 },
    breaks: ['/', /^maxLength tightened from 256 to 64$/],
    reverse: null,
  },
  {
    rule: 'a maximum added (back: removed)',
    before: { type: 'integer' },
    after: { type: 'integer', maximum: 100 },
    breaks: ['/', /^maximum 100 added$/],
    reverse: null,
  },
  {
    rule: 'minimum raised (back: lowered)',
    before: { type: 'integer', minimum: 0 },
    after: { type: 'integer', minimum: 1 },
    breaks: ['/', /^minimum tightened from 0 to 1$/],
    reverse: null,
  },
  {
    rule: 'an exclusiveMinimum added (back: removed)',
    before: { type: 'number' },
    after: { type: 'number', exclusiveMinimum: 0 },
    breaks: ['/', /^exclusiveMinimum 0 added$/],
    reverse: null,
  },
  {
    rule: 'minItems raised (back: lowered)',
    before: { type: 'array', items: str },
    after: { type: 'array', items: str, minItems: 1 },
    breaks: ['/', /^minItems 1 added$/],
    reverse: null,
  },
  {
    rule: 'maxItems lowered (back: raised)',
    before: { type: 'array', maxItems: 256 },
    after: { type: 'array', maxItems: 32 },
    breaks: ['/', /^maxItems tightened from 256 to 32$/],
    reverse: null,
  },
  {
    rule: 'multipleOf made coarser (back: finer)',
    before: { type: 'integer', multipleOf: 2 },
    after: { type: 'integer', multipleOf: 4 },
    breaks: ['/', /^multipleOf 4 replaces 2$/],
    reverse: null,
  },
  {
    rule: 'uniqueItems added (back: removed)',
    before: { type: 'array' },
    after: { type: 'array', uniqueItems: true },
    breaks: ['/', /^uniqueItems added$/],
    reverse: null,
  },
  {
    rule: 'array items narrowed, deep inside (back: widened)',
    before: obj({ tags: { type: 'array', items: { type: 'string', maxLength: 64 } } }),
    after: obj({ tags: { type: 'array', items: { type: 'string', maxLength: 32 } } }),
    breaks: ['/properties/tags/items', /^maxLength tightened from 64 to 32$/],
    reverse: null,
  },
  {
    rule: 'a nullable made non-nullable (back: made nullable)',
    before: { anyOf: [str, { type: 'null' }] },
    after: str,
    breaks: ['/anyOf/1', /^type narrowed from null to string/],
    reverse: null,
  },
  {
    rule: 'a union alternative removed (back: added)',
    before: {
      oneOf: [
        obj({ kind: { type: 'string', const: 'http' } }),
        obj({ kind: { type: 'string', const: 'mcp' } }),
      ],
    },
    after: { oneOf: [obj({ kind: { type: 'string', const: 'http' } })] },
    breaks: ['/oneOf/1/properties/kind', /^value "mcp" removed$/],
    reverse: null,
  },
  {
    rule: 'a property removed inside one union alternative (back: added)',
    before: {
      oneOf: [
        obj({ kind: { const: 'http' }, url: str, method: str }),
        obj({ kind: { const: 'mcp' }, server: str }),
      ],
    },
    after: {
      oneOf: [
        obj({ kind: { const: 'http' }, url: str }),
        obj({ kind: { const: 'mcp' }, server: str }),
      ],
    },
    breaks: ['/oneOf/0/properties/method', /^property removed/],
    reverse: null,
  },
  {
    rule: 'record keys restricted (back: any string key)',
    before: { type: 'object', additionalProperties: {} },
    after: {
      type: 'object',
      propertyNames: { type: 'string', pattern: '^x-' },
      additionalProperties: {},
    },
    breaks: ['/propertyNames', /^pattern "\^x-" added$/],
    reverse: null,
  },
  {
    rule: 'a schema that accepts nothing (back: anything)',
    before: true,
    after: false,
    breaks: ['/', /^accepts nothing any more$/],
    reverse: null,
  },
  {
    rule: 'a keyword the check does not understand changed (either way)',
    before: { type: 'string', not: { const: 'a' } },
    after: { type: 'string', not: { const: 'b' } },
    breaks: ['/', /^not changed, and this check cannot tell/],
    reverse: ['/', /^not changed/],
  },
];

describe('breakingSchemaChanges', () => {
  it.each(rules)('$rule', ({ before, after, breaks, reverse }) => {
    const forward = breakingSchemaChanges(before, after);
    expect(forward, JSON.stringify(forward)).toHaveLength(1);
    expect(forward[0]!.path).toBe(breaks[0]);
    expect(forward[0]!.change).toMatch(breaks[1]);
    const back = breakingSchemaChanges(after, before);
    if (reverse === null) {
      expect(back).toEqual([]);
    } else {
      expect(back, JSON.stringify(back)).toHaveLength(1);
      expect(back[0]!.path).toBe(reverse[0]);
      expect(back[0]!.change).toMatch(reverse[1]);
    }
  });

  it('ignores documentation, defaults, extensions and key order', () => {
    const before = {
      $id: 'https://schemas.toolbus.dev/a.schema.json',
      title: 'a',
      'x-cloudevents-type': 'dev.toolbus.a.b.v1',
      type: 'object',
      properties: { n: { type: 'integer', default: 1, description: 'old words' } },
      not: { required: ['a', 'b'], type: 'object' },
    };
    const after = {
      title: 'b',
      description: 'new words',
      type: 'object',
      properties: { n: { type: 'integer', default: 2, examples: [3], description: 'new' } },
      not: { type: 'object', required: ['a', 'b'] },
    };
    expect(breakingSchemaChanges(before, after)).toEqual([]);
    expect(breakingSchemaChanges(after, before)).toEqual([]);
  });

  it('lists every breaking change, each at its own pointer', () => {
    const before = obj({ a: str, b: { type: 'string', enum: ['x', 'y'] }, 'c/d': str });
    const after = obj({ b: { type: 'string', enum: ['x'] }, e: str }, ['e']);
    expect(breakingSchemaChanges(before, after)).toEqual([
      { path: '/properties/a', change: 'property removed (or renamed)' },
      { path: '/properties/b', change: 'value "y" removed' },
      { path: '/properties/c~1d', change: 'property removed (or renamed)' },
      { path: '/', change: 'new required property "e"' },
    ]);
  });
});

describe('releaseCompatProblems', () => {
  const v1 = {
    'x-cloudevents-type': 'dev.toolbus.order.placed.v1',
    ...obj({ id: str, qty: { type: 'integer' } }, ['id']),
  };
  const shared = { title: 'order.line', ...obj({ sku: str }) };
  const released = { 'order.placed.schema.json': v1, 'order.line.schema.json': shared };

  it('passes an unchanged or compatibly changed export, and new files', () => {
    expect(releaseCompatProblems('0.1.0', released, released)).toEqual([]);
    const widened = { ...v1, properties: { ...v1.properties, note: str } };
    expect(
      releaseCompatProblems('0.1.0', released, {
        ...released,
        'order.placed.schema.json': widened,
        'order.cancelled.schema.json': { 'x-cloudevents-type': 'dev.toolbus.order.cancelled.v1' },
      }),
    ).toEqual([]);
  });

  it('fails a breaking change to a released version, saying what broke and what to do', () => {
    const broken = { ...v1, required: ['id', 'qty'] };
    expect(
      releaseCompatProblems('0.1.0', released, { ...released, 'order.placed.schema.json': broken }),
    ).toEqual([
      'dev.toolbus.order.placed.v1 changed incompatibly since 0.1.0: /: property "qty" became required; ' +
        'declare order.placed v2 beside v1 instead (docs/contracts.md)',
    ]);
  });

  it('passes the same change made as a new version beside the released one', () => {
    const v2 = {
      ...v1,
      'x-cloudevents-type': 'dev.toolbus.order.placed.v2',
      required: ['id', 'qty'],
    };
    expect(
      releaseCompatProblems('0.1.0', released, { ...released, 'order.placed.v2.schema.json': v2 }),
    ).toEqual([]);
  });

  it('retires a released version only once a release shipped its successor beside it', () => {
    const v2 = { ...v1, 'x-cloudevents-type': 'dev.toolbus.order.placed.v2' };
    const onlyV2 = { 'order.line.schema.json': shared, 'order.placed.v2.schema.json': v2 };
    expect(releaseCompatProblems('0.1.0', released, onlyV2)).toEqual([
      'dev.toolbus.order.placed.v1 (released in 0.1.0) was removed before a newer version of it was released beside it',
    ]);
    expect(
      releaseCompatProblems('0.2.0', { ...released, 'order.placed.v2.schema.json': v2 }, onlyV2),
    ).toEqual([]);
  });

  it('fails a removed or broken shared schema, which has no version to bump', () => {
    expect(releaseCompatProblems('0.1.0', released, { 'order.placed.schema.json': v1 })).toEqual([
      'order.line.schema.json (released in 0.1.0) was removed',
    ]);
    const narrowed = { ...shared, properties: { sku: { type: 'string', maxLength: 8 } } };
    expect(
      releaseCompatProblems('0.1.0', released, { ...released, 'order.line.schema.json': narrowed }),
    ).toEqual([
      'order.line.schema.json changed incompatibly since 0.1.0: /properties/sku: maxLength 8 added; ' +
        'it is not a versioned message: keep it compatible or publish it under a new name',
    ]);
  });
});
