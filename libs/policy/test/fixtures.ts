import { Principal, ToolDefinition } from '@toolbus/contracts';
import type { PolicyCall, PolicyContext, TenantSettings } from '../src/index.js';

/** A registry definition with sensible defaults; override what a test is about. */
export function toolDef(
  overrides: Partial<Record<keyof ToolDefinition, unknown>> = {},
): ToolDefinition {
  return ToolDefinition.parse({
    name: 'get_credit_limit',
    version: '1.0.0',
    title: 'Get credit limit',
    description: 'The credit limit of a customer',
    inputSchema: {
      type: 'object',
      properties: {
        customer_id: { type: 'string', minLength: 3, description: 'Customer id' },
        currency: { type: 'string', enum: ['EUR', 'USD'] },
      },
      required: ['customer_id'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    owner: 'crm-team',
    scopes: ['crm:read'],
    transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    region: 'eu',
    status: 'approved',
    ...overrides,
  });
}

export function principal(overrides: Partial<Principal> = {}): Principal {
  return Principal.parse({
    subject: 'alice',
    kind: 'user',
    tenant: 'acme',
    scopes: ['crm:read'],
    ...overrides,
  });
}

export function call(overrides: Partial<PolicyCall> = {}): PolicyCall {
  return {
    tool: toolDef(),
    input: { customer_id: 'acme-1' },
    principal: principal(),
    tenant: 'acme',
    ...overrides,
  };
}

export function context(tenantSettings: TenantSettings = {}): PolicyContext {
  return { tenantSettings };
}
