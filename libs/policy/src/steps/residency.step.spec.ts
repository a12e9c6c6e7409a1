import { describe, expect, it } from 'vitest';
import { call, principal, toolDef } from '../../test/fixtures.js';
import { regionAllowed, residencyStep, toolPermitted } from './residency.step.js';

describe('residency step', () => {
  const step = residencyStep();

  it.each([
    // [tool region, tenant's allowed regions, principal's regions, allowed]
    ['eu', undefined, undefined, true],
    ['us', undefined, undefined, true],
    ['eu', ['eu'], undefined, true],
    ['eu-west-1', ['eu'], undefined, true],
    ['eu', ['eu-west-1'], undefined, false],
    ['eu-west-1', ['eu-west-1', 'us'], undefined, true],
    ['us', ['eu'], undefined, false],
    ['eu-west-10', ['eu-west-1'], undefined, false],
    ['eu', undefined, ['eu'], true],
    ['us', undefined, ['eu'], false],
    ['us', ['us', 'eu'], ['eu'], false],
    ['eu-central-1', ['eu', 'us'], ['eu'], true],
  ])('tool in %s, tenant allows %j, caller %j: %s', async (region, tenant, caller, allowed) => {
    const c = call({
      tool: toolDef({ region }),
      principal: principal(caller ? { regions: caller } : {}),
    });
    const decision = await step.decide(c, {
      tenantSettings: tenant ? { allowedRegions: tenant } : {},
    });
    expect(decision.kind).toBe(allowed ? 'allow' : 'refuse');
    expect(regionAllowed(region, c.principal, tenant ? { allowedRegions: tenant } : {})).toBe(
      allowed,
    );
  });

  it('says where the tool processes data and what the tenant allows', async () => {
    const decision = await step.decide(call({ tool: toolDef({ region: 'us' }) }), {
      tenantSettings: { allowedRegions: ['eu', 'ch'] },
    });
    expect(decision).toEqual({
      kind: 'refuse',
      step: 'residency',
      code: 'region_not_allowed',
      errorClass: 'forbidden',
      retryable: false,
      message:
        'The tool get_credit_limit processes data in region us, which is not allowed for tenant acme (allowed: eu, ch).',
    });
  });

  it('tells which tools a principal may use at all: scopes held and region allowed', () => {
    const p = principal({ scopes: ['crm:read'] });
    const settings = { allowedRegions: ['eu'] };
    expect(toolPermitted(toolDef(), p, settings)).toBe(true);
    expect(toolPermitted(toolDef({ region: 'us' }), p, settings)).toBe(false);
    expect(toolPermitted(toolDef({ scopes: ['crm:write'] }), p, settings)).toBe(false);
  });
});
