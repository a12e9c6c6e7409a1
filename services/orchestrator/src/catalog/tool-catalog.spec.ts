import type { Principal, ToolDefinition } from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import { compareVersions, ToolCatalog } from './tool-catalog.js';

const base: ToolDefinition = {
  name: 'get_credit_limit',
  version: '1.0.0',
  title: 'Credit limit',
  description: 'The credit limit of a customer',
  inputSchema: { type: 'object' },
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  owner: 'team-crm',
  scopes: ['crm:read'],
  timeoutMs: 2000,
  cacheTtlSeconds: 0,
  transport: { kind: 'kafka', topic: 'tool_requests.crm' },
  sync: false,
  region: 'eu',
  tags: [],
  status: 'approved',
};
const v = (over: Partial<ToolDefinition>): ToolDefinition => ({ ...base, ...over });
const alice: Principal = { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['crm:*'] };

function catalog(tools: ToolDefinition[]) {
  return new ToolCatalog({ servedVersions: () => tools });
}

describe('ToolCatalog', () => {
  it('routes a tool held in two regions to the version in an allowed region', () => {
    const c = catalog([
      v({ version: '1.1.0', region: 'us' }),
      v({ version: '1.0.0', region: 'eu' }),
    ]);
    expect(c.resolve('get_credit_limit', alice, { allowedRegions: ['eu'] })).toMatchObject({
      tool: { version: '1.0.0', region: 'eu' },
    });
    expect(c.resolve('get_credit_limit', alice, { allowedRegions: ['us'] })).toMatchObject({
      tool: { version: '1.1.0', region: 'us' },
    });
    // No restriction: the newest.
    expect(c.resolve('get_credit_limit', alice, {})).toMatchObject({ tool: { version: '1.1.0' } });
  });

  it('refuses a region neither the caller nor the tenant allows, saying where the tool runs', () => {
    const c = catalog([v({ region: 'us' })]);
    const refused = c.resolve('get_credit_limit', { ...alice, regions: ['eu'] }, {});
    expect(refused).toEqual({
      refusal: {
        code: 'region_not_allowed',
        message:
          'get_credit_limit processes data in us, outside the regions this caller may use (eu)',
      },
    });
  });

  it('refuses a missing scope naming it, and an unknown tool', () => {
    const c = catalog([v({ scopes: ['finance:read'] })]);
    expect(c.resolve('get_credit_limit', alice, {})).toMatchObject({
      refusal: { code: 'insufficient_scope', message: expect.stringContaining('finance:read') },
    });
    expect(c.resolve('nope', alice, {})).toMatchObject({ refusal: { code: 'unknown_tool' } });
  });

  it('prefers approved over deprecated, and serves a pinned version while it is served', () => {
    const c = catalog([v({ version: '2.0.0', status: 'deprecated' }), v({ version: '1.5.0' })]);
    expect(c.resolve('get_credit_limit', alice, {})).toMatchObject({ tool: { version: '1.5.0' } });
    expect(c.resolve('get_credit_limit', alice, {}, '2.0.0')).toMatchObject({
      tool: { version: '2.0.0' },
    });
    expect(c.resolve('get_credit_limit', alice, {}, '0.9.0')).toMatchObject({
      refusal: { code: 'version_not_served' },
    });
  });

  it('lists one usable version per tool, only those the caller may use', () => {
    const c = catalog([
      v({ name: 'b_tool' }),
      v({ name: 'a_tool', region: 'us' }),
      v({ name: 'c_tool', scopes: ['hr:read'] }),
      v({ name: 'a_tool', version: '0.1.0' }),
      v({ name: 'd_tool', status: 'draft' }),
    ]);
    expect(
      c.usable(alice, { allowedRegions: ['eu'] }).map((t) => `${t.name}@${t.version}`),
    ).toEqual(['a_tool@0.1.0', 'b_tool@1.0.0']);
  });

  it('orders versions semantically', () => {
    expect(['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9'].sort(compareVersions)).toEqual([
      '0.9.9',
      '1.2.0-rc.1',
      '1.2.0',
      '1.10.0',
    ]);
  });
});
