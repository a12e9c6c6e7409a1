import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal, ToolDefinition, ToolInvocationRequested } from '@toolbus/contracts';
import {
  fileGrantKeys,
  PrincipalAssertionSigner,
  PrincipalAssertionVerifier,
} from '@toolbus/security';
import { describe, expect, it } from 'vitest';
import { ToolCatalog } from '../catalog/tool-catalog.js';
import type { ToolCallRequest, ToolCalls } from '../calls/tool-call.js';
import { EdgeTrust, invocationBinding } from '../edge/edge-trust.js';
import { deliveryKey, InvocationService } from './invocation.service.js';

const alice: Principal = { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['crm:write'] };
const dir = mkdtempSync(join(tmpdir(), 'invocation-'));
const gateway = generateKeyPairSync('ed25519');
const jwks = join(dir, 'jwks.json');
writeFileSync(
  jwks,
  JSON.stringify({
    keys: [{ ...gateway.publicKey.export({ format: 'jwk' }), kid: 'gw-1', alg: 'EdDSA' }],
  }),
);
const signer = new PrincipalAssertionSigner({
  key: gateway.privateKey,
  kid: 'gw-1',
  issuer: 'toolbus-gateway',
  audience: 'toolbus-orchestrator',
});
const trust = new EdgeTrust(
  new PrincipalAssertionVerifier({
    keys: fileGrantKeys(jwks),
    issuer: 'toolbus-gateway',
    audience: 'toolbus-orchestrator',
  }),
);

const updateLimit: ToolDefinition = {
  name: 'update_credit_limit',
  version: '1.0.0',
  title: 'Update a credit limit',
  description: 'Sets the credit limit of a customer',
  inputSchema: { type: 'object' },
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  owner: 'team-crm',
  scopes: ['crm:write'],
  timeoutMs: 2000,
  cacheTtlSeconds: 0,
  transport: { kind: 'kafka', topic: 'tool_requests.crm' },
  sync: false,
  region: 'eu',
  tags: [],
  status: 'approved',
};

/** The service over a recorder of the governed calls it makes. */
function service() {
  const calls: ToolCallRequest[] = [];
  const tools: ToolCalls = {
    async run(request) {
      calls.push(request);
      return {
        outcome: 'succeeded',
        tool: request.tool,
        idempotencyKey: request.idempotencyKey,
        output: { ok: true },
        durationMs: 1,
      };
    },
  };
  const invocations = new InvocationService(
    tools,
    new ToolCatalog({ servedVersions: () => [updateLimit] }),
    trust,
    () => ({}),
  );
  return { invocations, calls };
}

async function invocation(
  over: Partial<ToolInvocationRequested> = {},
): Promise<ToolInvocationRequested> {
  const call = { tool: updateLimit.name, input: { customer_id: 'c-1', limit: 100 }, ...over };
  return {
    ...call,
    principal: alice,
    principalAssertion: await signer.sign(alice, invocationBinding(call)),
  };
}

describe('direct invocations', () => {
  it('give a keyless call the same key each time its bus message is delivered', async () => {
    const { invocations, calls } = service();
    const message = await invocation();
    // The replica that took it died mid-call; the next one gets the same message again.
    const first = await invocations.invoke(message, { id: 'event-0001' });
    const again = await invocations.invoke(message, { id: 'event-0001' });
    expect(first.outcome).toBe('succeeded');
    expect(first.idempotencyKey).toBe(deliveryKey('event-0001'));
    expect(again.idempotencyKey).toBe(first.idempotencyKey);
    expect(calls.map((c) => c.idempotencyKey)).toEqual([
      deliveryKey('event-0001'),
      deliveryKey('event-0001'),
    ]);
  });

  it('give another message, or a keyless call over HTTP, a key of its own', async () => {
    const { invocations, calls } = service();
    const message = await invocation();
    await invocations.invoke(message, { id: 'event-0001' });
    await invocations.invoke(message, { id: 'event-0002' });
    await invocations.invoke(message);
    await invocations.invoke(message);
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(4);
    for (const { idempotencyKey } of calls) expect(idempotencyKey).toMatch(/^inv:[\w-]{32,40}$/);
  });

  it("keep the caller's own key, whatever carried the call", async () => {
    const { invocations, calls } = service();
    const message = await invocation({ idempotencyKey: 'caller-key-0001' });
    await invocations.invoke(message, { id: 'event-0001' });
    await invocations.invoke(message);
    expect(calls.map((c) => c.idempotencyKey)).toEqual(['caller-key-0001', 'caller-key-0001']);
  });
});
