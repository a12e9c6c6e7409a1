import { describe, expect, it } from 'vitest';
import {
  anonymousSchema,
  createAjv,
  DIALECT_URIS,
  JSON_SCHEMA_DIALECTS,
  type JsonSchemaDialect,
} from './index.js';

describe('createAjv', () => {
  it('reads 2020-12 by default: prefixItems checks each position', () => {
    const validate = createAjv().compile({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'integer' }],
    });
    expect(validate(['a', 1])).toBe(true);
    expect(validate(['a', 'b'])).toBe(false);
  });

  it('reads draft-07 when asked: there, items as an array checks each position', () => {
    const validate = createAjv({ dialect: 'draft-07' }).compile({
      type: 'array',
      items: [{ type: 'string' }, { type: 'integer' }],
    });
    expect(validate(['a', 1])).toBe(true);
    expect(validate(['a', 'b'])).toBe(false);
  });

  it('reads 2019-09 when asked: unevaluatedProperties and $recursiveRef are known', () => {
    const ajv = createAjv({ dialect: '2019-09' });
    const validate = ajv.compile({
      type: 'object',
      properties: { a: { type: 'string' } },
      unevaluatedProperties: false,
    });
    expect(validate({ a: 'x' })).toBe(true);
    expect(validate({ a: 'x', b: 1 })).toBe(false);
    expect(() =>
      ajv.compile({ $recursiveAnchor: true, items: { $recursiveRef: '#' } }),
    ).not.toThrow();
  });

  it.each(JSON_SCHEMA_DIALECTS)('knows the meta-schema of %s by its URI', (dialect) => {
    const ajv = createAjv({ dialect });
    expect(ajv.getSchema(DIALECT_URIS[dialect])).toBeTypeOf('function');
  });

  it('checks the ajv-formats formats', () => {
    const validate = createAjv().compile({ type: 'string', format: 'email' });
    expect(validate('a@example.com')).toBe(true);
    expect(validate('not an email')).toBe(false);
  });

  it('reports every error, not only the first', () => {
    const validate = createAjv().compile({
      type: 'object',
      required: ['a', 'b'],
    });
    expect(validate({})).toBe(false);
    expect(validate.errors).toHaveLength(2);
  });

  it('accepts unknown annotation keywords (not strict) but refuses a malformed schema', () => {
    const ajv = createAjv();
    expect(() => ajv.compile({ type: 'string', 'x-internal': true, example: 'a' })).not.toThrow();
    expect(() => ajv.compile({ type: 'strin' })).toThrow(/schema is invalid/);
  });

  it('never loads a remote $ref: compiling one throws at once', () => {
    const ajv = createAjv();
    expect(() => ajv.compile({ $ref: 'https://schemas.example.com/customer.json' })).toThrow(
      /can't resolve reference https:\/\/schemas\.example\.com\/customer\.json/,
    );
  });

  it('names the dialects it knows when given another', () => {
    expect(() => createAjv({ dialect: 'draft-04' as JsonSchemaDialect })).toThrow(
      'unknown JSON Schema dialect "draft-04"; use draft-07, 2019-09, 2020-12',
    );
  });

  it('gives independent instances: a schema added to one is unknown to another', () => {
    const first = createAjv();
    first.addSchema({ $id: 'urn:toolbus:test', type: 'string' });
    expect(first.getSchema('urn:toolbus:test')).toBeTypeOf('function');
    expect(createAjv().getSchema('urn:toolbus:test')).toBeUndefined();
  });
});

describe('anonymousSchema', () => {
  it('drops $schema and $id and keeps the rest, leaving the original alone', () => {
    const schema = { $schema: DIALECT_URIS['draft-07'], $id: 'urn:x', type: 'object' };
    expect(anonymousSchema(schema)).toEqual({ type: 'object' });
    expect(schema.$id).toBe('urn:x');
  });

  it('lets one Ajv compile two schemas that share an $id', () => {
    const ajv = createAjv();
    const v1 = { $id: 'urn:toolbus:tool', type: 'string' };
    const v2 = { $id: 'urn:toolbus:tool', type: 'integer' };
    ajv.compile(anonymousSchema(v1));
    expect(() => ajv.compile(anonymousSchema(v2))).not.toThrow();
    expect(() => ajv.compile(v1)).not.toThrow();
    expect(() => ajv.compile(v2)).toThrow(/already exists/);
  });
});
