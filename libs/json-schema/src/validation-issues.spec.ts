import { describe, expect, it } from 'vitest';
import { createAjv, errorPath, pointerFrom, validationIssues } from './index.js';

const ajv = createAjv();

function issuesOf(schema: Record<string, unknown>, value: unknown) {
  const validate = ajv.compile(schema);
  expect(validate(value)).toBe(false);
  return validationIssues(validate.errors);
}

describe('validationIssues', () => {
  it('locates a missing property at the property, as "is required"', () => {
    expect(
      issuesOf(
        { type: 'object', properties: { customer: { type: 'object', required: ['id'] } } },
        { customer: {} },
      ),
    ).toEqual([{ pointer: '/customer/id', path: ['customer', 'id'], message: 'is required' }]);
  });

  it('locates a property the schema does not allow at that property', () => {
    expect(issuesOf({ type: 'object', additionalProperties: false }, { extra: 1 })).toEqual([
      { pointer: '/extra', path: ['extra'], message: 'is not allowed here' },
    ]);
    expect(
      issuesOf(
        { type: 'object', properties: { a: {} }, unevaluatedProperties: false },
        { a: 1, late: 2 },
      ),
    ).toEqual([{ pointer: '/late', path: ['late'], message: 'is not allowed here' }]);
  });

  it("keeps Ajv's message for other keywords, and / for the whole value", () => {
    expect(issuesOf({ type: 'string' }, 1)).toEqual([
      { pointer: '/', path: [], message: 'must be string' },
    ]);
    expect(issuesOf({ type: 'array', items: { type: 'integer' } }, [1, 'x'])).toEqual([
      { pointer: '/1', path: ['1'], message: 'must be integer' },
    ]);
  });

  it('unescapes ~0 and ~1 in the path and escapes them again in the pointer', () => {
    const issues = issuesOf(
      {
        type: 'object',
        properties: { 'a/b': { type: 'object', required: ['c~d'] } },
      },
      { 'a/b': {} },
    );
    expect(issues).toEqual([
      { pointer: '/a~1b/c~0d', path: ['a/b', 'c~d'], message: 'is required' },
    ]);
  });

  it('answers no issues for no errors', () => {
    expect(validationIssues(null)).toEqual([]);
    expect(validationIssues(undefined)).toEqual([]);
  });
});

describe('errorPath and pointerFrom', () => {
  it('are inverse over awkward tokens', () => {
    const path = ['', 'a/b', '~', '0'];
    expect(pointerFrom(path)).toBe('//a~1b/~0/0');
    const validate = ajv.compile({ type: 'object', required: ['~/'] });
    validate({});
    const [error] = validate.errors ?? [];
    expect(error && errorPath(error)).toEqual(['~/']);
    expect(pointerFrom([])).toBe('/');
  });
});
