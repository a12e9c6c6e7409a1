import { describe, expect, it } from 'vitest';
import { parseAndValidate } from './document-validation.js';
import { OpenApiImportError } from './openapi-import-error.js';

function issuesOf(input: string | Record<string, unknown>) {
  try {
    parseAndValidate(input);
  } catch (error) {
    expect(error).toBeInstanceOf(OpenApiImportError);
    return (error as OpenApiImportError).issues;
  }
  throw new Error('expected the document to be refused');
}

const valid30 = {
  openapi: '3.0.3',
  info: { title: 'T', version: '1' },
  paths: { '/a': { get: { responses: { '200': { description: 'ok' } } } } },
};

describe('parseAndValidate', () => {
  it('reads JSON, YAML and objects, and tells 3.0 from 3.1', () => {
    expect(parseAndValidate(JSON.stringify(valid30)).version).toBe('3.0');
    expect(
      parseAndValidate('openapi: 3.1.0\ninfo: {title: T, version: "1"}\npaths: {}\n').version,
    ).toBe('3.1');
    expect(parseAndValidate(valid30).document).toEqual(valid30);
  });

  it('reports an empty document and YAML that is not a mapping', () => {
    expect(issuesOf('   ')).toEqual([{ pointer: '/', message: expect.stringContaining('empty') }]);
    expect(issuesOf('- a\n- b\n')).toEqual([
      { pointer: '/', message: expect.stringContaining('got an array') },
    ]);
  });

  it('refuses YAML alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    expect(issuesOf(lines.join('\n'))[0]?.pointer).toBe('/');
  });

  it('refuses a non-string openapi field', () => {
    expect(issuesOf({ ...valid30, openapi: 3 })).toEqual([
      { pointer: '/openapi', message: expect.stringContaining('must be a string') },
    ]);
  });

  it('reports the specific problem, not every oneOf branch', () => {
    const issues = issuesOf({
      ...valid30,
      paths: {
        '/a': {
          get: {
            parameters: [{ name: 'x', in: 'query', schema: { type: 'string' }, style: 7 }],
            responses: { '200': { description: 'ok' } },
            unknownKey: true,
          },
        },
      },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        {
          pointer: '/paths/~1a/get/unknownKey',
          message: 'property "unknownKey" is not allowed here',
        },
        { pointer: '/paths/~1a/get/parameters/0/style', message: 'must be string' },
      ]),
    );
    expect(issues.length).toBeLessThanOrEqual(4);
  });

  it('names the missing field of the matching parameter location, not the others', () => {
    const issues = issuesOf({
      ...valid30,
      paths: {
        '/a/{id}': {
          get: {
            parameters: [{ name: 'id', in: 'path', schema: { type: 'string' } }],
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    expect(issues).toEqual([
      {
        pointer: '/paths/~1a~1{id}/get/parameters/0/required',
        message: 'required property "required" is missing',
      },
    ]);
  });

  it('caps the issues at 20', () => {
    const paths: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) paths[`/p${i}`] = { get: { responses: { '200': {} } } };
    const issues = issuesOf({ ...valid30, paths });
    expect(issues).toHaveLength(20);
    expect(issues[0]).toEqual({
      pointer: '/paths/~1p0/get/responses/200/description',
      message: 'required property "description" is missing',
    });
  });

  it('validates 3.1 documents with relative $refs and templated server URLs', () => {
    expect(
      parseAndValidate({
        openapi: '3.1.0',
        info: { title: 'T', version: '1' },
        servers: [
          { url: 'https://{host}/v1', variables: { host: { default: 'api.example.com' } } },
        ],
        paths: {
          '/a': {
            get: {
              parameters: [{ $ref: '#/components/parameters/P' }],
              responses: { '200': { description: 'ok' } },
            },
          },
        },
        components: { parameters: { P: { name: 'p', in: 'query', schema: { type: 'string' } } } },
      }).version,
    ).toBe('3.1');
  });
});
