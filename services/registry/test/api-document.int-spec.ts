import SwaggerParser from '@apidevtools/swagger-parser';
import { RegistryPaths } from '@toolbus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startTestRegistry, type TestRegistry } from './support.js';

describe("the registry's OpenAPI document", () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t?.close());

  it('is served without a token, is a valid OpenAPI 3.1 document, and documents only real routes', async () => {
    const res = await fetch(new URL(RegistryPaths.openApiDocument, t.url));
    expect(res.status).toBe(200);
    const document = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(document) as never);
    const fastify = t.registry.app.getHttpAdapter().getInstance() as FastifyInstance;
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({
        method: method.toUpperCase(),
        url: path.replace(/\{(\w+)\}/g, ':$1'),
      })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(14);
    for (const op of operations)
      expect(
        fastify.hasRoute({ method: op.method as 'GET', url: op.url }),
        `${op.method} ${op.url}`,
      ).toBe(true);
  });
});
