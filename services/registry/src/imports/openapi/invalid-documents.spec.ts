import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertOpenApi, type ConvertOptions, OpenApiImportError } from './index.js';

const folder = new URL('../../../test/fixtures/openapi/invalid/', import.meta.url);

interface InvalidCase {
  file: string;
  pointer: string;
  message: string;
  description: string;
}

const { options, cases } = JSON.parse(readFileSync(new URL('cases.json', folder), 'utf8')) as {
  options: ConvertOptions;
  cases: InvalidCase[];
};

describe('invalid OpenAPI documents (test/fixtures/openapi/invalid)', () => {
  it('lists every file of the folder once, each case distinct', () => {
    const files = readdirSync(folder).filter((file) => file !== 'cases.json');
    expect(cases.map((c) => c.file).sort()).toEqual(files.sort());
    expect(new Set(cases.map((c) => `${c.pointer} ${c.message}`)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  it.each(cases)('$file: $description', async ({ file, pointer, message }) => {
    const text = readFileSync(new URL(file, folder), 'utf8');
    const error: unknown = await convertOpenApi(text, options).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(OpenApiImportError);
    const { issues } = error as OpenApiImportError;
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.length).toBeLessThanOrEqual(20);
    expect(issues).toContainEqual({ pointer, message: expect.stringContaining(message) });
    expect((error as Error).message).toContain(issues[0]?.message);
  });
});
