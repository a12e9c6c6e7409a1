import type { FieldIssue } from '@toolbus/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { OpenApiVersion } from './document-validation.js';
import { RefResolver } from './ref-resolver.js';
import { convertSchema, type SchemaDirection } from './schema-conversion.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

function convert(
  schema: unknown,
  {
    version = '3.0',
    direction = 'input',
    schemas = {},
  }: {
    version?: OpenApiVersion;
    direction?: SchemaDirection;
    schemas?: Record<string, unknown>;
  } = {},
) {
  const issues: FieldIssue[] = [];
  const resolver = new RefResolver({ components: { schemas } });
  const result = convertSchema(schema, '/x', {
    resolver,
    version,
    direction,
    issues,
    label: 'operation GET /x: ',
  });
  return { result, issues };
}

describe('convertSchema', () => {
  it('adds "null" to type and enum for 3.0 nullable', () => {
    expect(convert({ type: 'string', nullable: true }).result).toEqual({
      type: ['string', 'null'],
    });
    expect(convert({ type: 'string', enum: ['a', 'b'], nullable: true }).result).toEqual({
      type: ['string', 'null'],
      enum: ['a', 'b', null],
    });
    expect(
      convert(
        { nullable: true, description: 'd', allOf: [{ $ref: '#/components/schemas/A' }] },
        {
          schemas: { A: { type: 'integer' } },
        },
      ).result,
    ).toEqual({ description: 'd', anyOf: [{ allOf: [{ type: 'integer' }] }, { type: 'null' }] });
    expect(convert({ nullable: false, type: 'string' }).result).toEqual({ type: 'string' });
  });

  it('drops nullable in 3.1, where it means nothing', () => {
    expect(convert({ type: 'string', nullable: true }, { version: '3.1' }).result).toEqual({
      type: 'string',
    });
  });

  it('turns example into examples and merges existing examples', () => {
    expect(convert({ type: 'string', example: 'x' }).result).toEqual({
      type: 'string',
      examples: ['x'],
    });
    expect(
      convert({ type: 'string', examples: ['a'], example: 'b' }, { version: '3.1' }).result,
    ).toEqual({ type: 'string', examples: ['a', 'b'] });
  });

  it('converts boolean exclusive bounds and keeps numeric ones', () => {
    expect(
      convert({
        type: 'number',
        minimum: 0,
        exclusiveMinimum: true,
        maximum: 9,
        exclusiveMaximum: false,
      }).result,
    ).toEqual({ type: 'number', exclusiveMinimum: 0, maximum: 9 });
    expect(convert({ type: 'number', maximum: 5, exclusiveMaximum: true }).result).toEqual({
      type: 'number',
      exclusiveMaximum: 5,
    });
    expect(convert({ type: 'number', exclusiveMinimum: 1 }, { version: '3.1' }).result).toEqual({
      type: 'number',
      exclusiveMinimum: 1,
    });
  });

  it('drops OpenAPI-only keywords and extensions', () => {
    expect(
      convert({
        type: 'object',
        discriminator: { propertyName: 'kind' },
        xml: { name: 'x' },
        externalDocs: { url: 'https://example.com' },
        deprecated: true,
        'x-internal': true,
        properties: { a: { type: 'string', deprecated: true, format: 'uuid', pattern: '^a' } },
      }).result,
    ).toEqual({
      type: 'object',
      properties: { a: { type: 'string', format: 'uuid', pattern: '^a' } },
    });
  });

  it('removes readOnly properties from input and writeOnly ones from output', () => {
    const schema = {
      type: 'object',
      required: ['id', 'password', 'name'],
      properties: {
        id: { type: 'string', readOnly: true },
        password: { type: 'string', writeOnly: true },
        name: { type: 'string' },
      },
    };
    expect(convert(schema, { direction: 'input' }).result).toEqual({
      type: 'object',
      required: ['password', 'name'],
      properties: { password: { type: 'string', writeOnly: true }, name: { type: 'string' } },
    });
    expect(convert(schema, { direction: 'output' }).result).toEqual({
      type: 'object',
      required: ['id', 'name'],
      properties: { id: { type: 'string', readOnly: true }, name: { type: 'string' } },
    });
  });

  it('inlines a $ref whose target is readOnly, then removes it from input', () => {
    const { result } = convert(
      { type: 'object', properties: { id: { $ref: '#/components/schemas/Id' } }, required: ['id'] },
      { schemas: { Id: { type: 'string', readOnly: true } } },
    );
    expect(result).toEqual({ type: 'object', properties: {}, required: [] });
  });

  it('keeps annotations beside a 3.0 $ref and ignores other siblings', () => {
    const schemas = { Status: { type: 'string', enum: ['a', 'b'] } };
    expect(
      convert(
        { $ref: '#/components/schemas/Status', description: 'Why', maxLength: 1 },
        { schemas },
      ).result,
    ).toEqual({ type: 'string', enum: ['a', 'b'], description: 'Why' });
  });

  it('applies the siblings of a 3.1 $ref with allOf', () => {
    const schemas = { Status: { type: 'string', enum: ['a', 'b'] } };
    expect(
      convert(
        { $ref: '#/components/schemas/Status', description: 'Why', maxLength: 1 },
        { schemas, version: '3.1' },
      ).result,
    ).toEqual({
      description: 'Why',
      allOf: [{ type: 'string', enum: ['a', 'b'] }, { maxLength: 1 }],
    });
  });

  it('converts draft-07 tuples and dependencies to 2020-12', () => {
    expect(
      convert(
        {
          type: 'array',
          items: [{ type: 'string' }, { $ref: '#/components/schemas/Count' }],
          dependencies: { a: ['b'], c: { required: ['d'] } },
        },
        { schemas: { Count: { type: 'integer' } } },
      ).result,
    ).toEqual({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'integer' }],
      dependentRequired: { a: ['b'] },
      dependentSchemas: { c: { required: ['d'] } },
    });
  });

  it('refuses a circular $ref, naming the chain', () => {
    const { result, issues } = convert(
      { $ref: '#/components/schemas/Node' },
      {
        schemas: {
          Node: {
            type: 'object',
            properties: {
              children: { type: 'array', items: { $ref: '#/components/schemas/Node' } },
            },
          },
        },
      },
    );
    expect(result).toBeUndefined();
    expect(issues).toEqual([
      {
        pointer: '/components/schemas/Node/properties/children/items/$ref',
        message:
          'operation GET /x: circular $ref #/components/schemas/Node → #/components/schemas/Node: recursive schemas cannot be inlined into a tool schema',
      },
    ]);
  });

  it('inlines the same schema twice side by side (not a cycle)', () => {
    const { result, issues } = convert(
      {
        type: 'object',
        properties: {
          billing: { $ref: '#/components/schemas/Address' },
          shipping: { $ref: '#/components/schemas/Address' },
        },
      },
      { schemas: { Address: { type: 'object', properties: { city: { type: 'string' } } } } },
    );
    expect(issues).toEqual([]);
    expect(result).toEqual({
      type: 'object',
      properties: {
        billing: { type: 'object', properties: { city: { type: 'string' } } },
        shipping: { type: 'object', properties: { city: { type: 'string' } } },
      },
    });
  });

  it('refuses a schema that explodes once inlined', () => {
    const schemas: Record<string, unknown> = { L0: { type: 'string' } };
    for (let level = 1; level <= 20; level++) {
      const ref = { $ref: `#/components/schemas/L${level - 1}` };
      schemas[`L${level}`] = { type: 'object', properties: { a: ref, b: ref } };
    }
    const { result, issues } = convert({ $ref: '#/components/schemas/L20' }, { schemas });
    expect(result).toBeUndefined();
    expect(issues[0]?.message).toContain('nodes once its $refs are inlined');
  });

  it('produces schemas Ajv 2020 compiles', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const { result } = convert({
      type: 'object',
      properties: {
        amount: { type: 'number', minimum: 0, exclusiveMinimum: true, nullable: true },
        kind: { type: 'string', enum: ['a'], nullable: true, example: 'a' },
        tuple: { type: 'array', items: [{ type: 'string' }] },
      },
    });
    const validate = ajv.compile(result as object);
    expect(validate({ amount: null, kind: null, tuple: ['x'] })).toBe(true);
    expect(validate({ amount: 0 })).toBe(false);
  });
});
