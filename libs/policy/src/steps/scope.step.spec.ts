import { describe, expect, it } from 'vitest';
import { call, principal, toolDef } from '../../test/fixtures.js';
import { scopeStep } from './scope.step.js';

describe('scope step', () => {
  const step = scopeStep();

  it.each([
    // [caller scopes, tool scopes, offered tools (undefined: a direct call), expected code]
    [['crm:read'], ['crm:read'], undefined, 'allow'],
    [['crm:*'], ['crm:read', 'crm:write'], undefined, 'allow'],
    [['crm:read', 'erp:read'], ['crm:read', 'erp:read'], undefined, 'allow'],
    [[], [], undefined, 'allow'],
    [['crm:read'], ['crm:write'], undefined, 'insufficient_scope'],
    [['crm:read'], ['crm:read', 'erp:read'], undefined, 'insufficient_scope'],
    [['erp:*'], ['crm:read'], undefined, 'insufficient_scope'],
    [['crm:read'], ['crm:read'], ['get_credit_limit', 'find_tools'], 'allow'],
    [['crm:read'], ['crm:read'], ['find_tools'], 'excessive_agency'],
    [['crm:*'], ['crm:read'], [], 'excessive_agency'],
    // Not offered and not permitted: the model acted beyond what it was given, first.
    [[], ['crm:read'], ['other_tool'], 'excessive_agency'],
  ])('caller %j, tool %j, offered %j: %s', async (held, needed, offered, expected) => {
    const decision = await step.decide(
      call({
        principal: principal({ scopes: held }),
        tool: toolDef({ scopes: needed }),
        ...(offered ? { offeredTools: new Set(offered) } : {}),
      }),
      { tenantSettings: {} },
    );
    expect(decision.kind === 'refuse' ? decision.code : decision.kind).toBe(expected);
  });

  it('names the missing scopes and says what to do when a tool was not offered', async () => {
    const missing = await step.decide(
      call({
        principal: principal({ scopes: ['crm:read'] }),
        tool: toolDef({ scopes: ['crm:read', 'crm:write', 'erp:read'] }),
      }),
      { tenantSettings: {} },
    );
    expect(missing).toEqual({
      kind: 'refuse',
      step: 'scope',
      code: 'insufficient_scope',
      errorClass: 'forbidden',
      retryable: false,
      message:
        'Calling get_credit_limit needs the scopes crm:write, erp:read, which the caller does not hold.',
    });
    const unoffered = await step.decide(call({ offeredTools: new Set(['find_tools']) }), {
      tenantSettings: {},
    });
    expect(unoffered).toMatchObject({
      code: 'excessive_agency',
      errorClass: 'forbidden',
      message: expect.stringContaining('get_credit_limit was not offered in this conversation'),
    });
  });
});
