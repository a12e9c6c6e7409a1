import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BusinessError,
  classify,
  defineTool,
  RetryableToolError,
  toToolDefinition,
} from './index.js';

const spec = {
  name: 'get_credit_limit',
  title: 'Credit limit',
  description: 'Returns the credit limit of a customer account.',
  input: z.object({ customer_id: z.string().describe('Customer id, e.g. cus_001') }),
  output: z.object({ credit_limit: z.number() }),
  scopes: ['crm:read'],
  annotations: { readOnlyHint: true },
  handler: async () => ({ credit_limit: 1 }),
};

describe('defineTool', () => {
  it('refuses unusable declarations, saying why', () => {
    expect(() => defineTool({ ...spec, name: 'Get-Limit' })).toThrow(
      'tool name "Get-Limit" must match',
    );
    expect(() => defineTool({ ...spec, description: 'short' })).toThrow(
      'give a description of at least 10 characters',
    );
    expect(() => defineTool({ ...spec, input: z.string() as never })).toThrow(
      'input must be a zod object schema',
    );
  });

  it('exports a registry definition with JSON Schemas, field descriptions and annotations', () => {
    const def = toToolDefinition(defineTool(spec), {
      owner: 'crm-team',
      region: 'eu',
      transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    });
    expect(def).toMatchObject({
      name: 'get_credit_limit',
      version: '1.0.0',
      owner: 'crm-team',
      region: 'eu',
      timeoutMs: 2000,
      annotations: {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
      inputSchema: {
        type: 'object',
        properties: { customer_id: { type: 'string', description: 'Customer id, e.g. cus_001' } },
        required: ['customer_id'],
      },
      outputSchema: { type: 'object', properties: { credit_limit: { type: 'number' } } },
    });
    expect(def.inputSchema).not.toHaveProperty('$schema');
  });
});

describe('classify', () => {
  it('keeps business errors as written and final', () => {
    expect(
      classify(new BusinessError('limit_too_high', 'the new limit exceeds the approval threshold'))
        .safe,
    ).toEqual({
      class: 'business',
      code: 'limit_too_high',
      message: 'the new limit exceeds the approval threshold',
      retryable: false,
    });
  });

  it('marks connection trouble retryable without repeating the driver message', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=x'), {
      code: 'ECONNREFUSED',
    });
    const { safe } = classify(e);
    expect(safe).toMatchObject({ class: 'unavailable', retryable: true });
    expect(safe.message).not.toContain('10.0.0.5');
    expect(classify(new RetryableToolError('erp_busy', 'the ERP is busy')).safe).toMatchObject({
      class: 'unavailable',
      code: 'erp_busy',
      retryable: true,
    });
  });

  it('hides unexpected errors behind a reference', () => {
    const { safe, ref } = classify(
      new TypeError("Cannot read properties of undefined (reading 'secret')"),
    );
    expect(safe).toEqual({
      class: 'internal',
      code: 'internal_error',
      message: `the tool failed unexpectedly (reference ${ref})`,
      retryable: false,
    });
  });
});
