import { describe, expect, it } from 'vitest';
import { call, toolDef } from '../../test/fixtures.js';
import { argumentsStep } from './arguments.step.js';

describe('arguments step', () => {
  const ctx = { tenantSettings: {} };

  it.each([
    // [input, the pointers of the bad fields ([] = allowed)]
    [{ customer_id: 'acme-1' }, []],
    [{ customer_id: 'acme-1', currency: 'EUR' }, []],
    [{}, ['/customer_id']],
    [{ customer_id: 42 }, ['/customer_id']],
    [{ customer_id: 'a' }, ['/customer_id']],
    [{ customer_id: 'acme-1', currency: 'GBP' }, ['/currency']],
    [{ customer_id: 'acme-1', limit: 5 }, ['/limit']],
    [{ currency: 7, extra: true }, ['/customer_id', '/currency', '/extra']],
  ])('%j: bad fields %j', async (input, pointers) => {
    const decision = await argumentsStep().decide(call({ input }), ctx);
    if (pointers.length === 0) return expect(decision.kind).toBe('allow');
    expect(decision.kind).toBe('refuse');
    if (decision.kind !== 'refuse') return;
    expect(decision.code).toBe('invalid_arguments');
    expect(decision.errorClass).toBe('validation');
    expect([...new Set(decision.issues!.map((i) => i.pointer))].sort()).toEqual(
      [...pointers].sort(),
    );
  });

  it('writes a refusal a model can act on, naming each field', async () => {
    const decision = await argumentsStep().decide(
      call({ input: { customer_id: 42, extra: 1 } }),
      ctx,
    );
    expect(decision).toMatchObject({
      kind: 'refuse',
      step: 'arguments',
      retryable: false,
      issues: [
        { pointer: '/extra', message: 'is not allowed here' },
        { pointer: '/customer_id', message: 'must be string' },
      ],
    });
    expect(decision.kind === 'refuse' && decision.message).toBe(
      'The input for get_credit_limit is invalid: /extra: is not allowed here; /customer_id: must be string. Correct these fields and call again.',
    );
  });

  it('refuses an oversized input before validating it', async () => {
    const decision = await argumentsStep({ maxInputBytes: 100 }).decide(
      call({ input: { customer_id: 'x'.repeat(200) } }),
      ctx,
    );
    expect(decision).toMatchObject({
      code: 'arguments_too_large',
      issues: [{ pointer: '/', message: 'is 218 bytes; at most 100 are accepted' }],
    });
  });

  it('compiles a schema once per tool version, and keeps only a bounded number', async () => {
    const step = argumentsStep({ maxCachedValidators: 1 });
    const v1 = toolDef();
    // The same version with another schema is not recompiled: versions are immutable.
    const sameVersionOtherSchema = toolDef({ inputSchema: { type: 'object', required: ['x'] } });
    expect((await step.decide(call({ tool: v1, input: {} }), ctx)).kind).toBe('refuse');
    const cached = await step.decide(
      call({ tool: sameVersionOtherSchema, input: { customer_id: 'acme-1' } }),
      ctx,
    );
    expect(cached.kind).toBe('allow');
    // Another tool evicts it (bound 1); the next call compiles what it is given.
    await step.decide(call({ tool: toolDef({ name: 'other_tool' }) }), ctx);
    const recompiled = await step.decide(
      call({ tool: sameVersionOtherSchema, input: { customer_id: 'acme-1' } }),
      ctx,
    );
    expect(recompiled).toMatchObject({ kind: 'refuse', issues: [{ pointer: '/x' }] });
  });

  it('refuses, rather than skips, a call whose schema does not compile', async () => {
    const broken = toolDef({
      inputSchema: { type: 'object', properties: { a: { type: 'nope' } } },
    });
    expect(await argumentsStep().decide(call({ tool: broken, input: {} }), ctx)).toMatchObject({
      kind: 'refuse',
      code: 'policy_error',
      errorClass: 'internal',
      message: expect.stringContaining('input schema of get_credit_limit 1.0.0 cannot be compiled'),
    });
  });
});
