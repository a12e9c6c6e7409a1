import type { CallGrantSigner } from '@toolbus/security';
import type { GrantIssuer } from './dispatcher.js';

/**
 * The orchestrator as the platform's only issuer of call grants: one grant per attempt, for
 * one consumer service, binding the call's tool, version, idempotency key, input hash,
 * principal, tenant and region, expiring at the call's deadline.
 */
export function grantIssuer(signer: CallGrantSigner): GrantIssuer {
  return {
    issue: (call) =>
      signer.sign(
        {
          callId: call.callId,
          idempotencyKey: call.idempotencyKey,
          tool: call.tool.name,
          toolVersion: call.tool.version,
          input: call.input,
          principal: call.principal,
          tenant: call.principal.tenant,
          region: call.tool.region,
          deadline: new Date(call.deadline).toISOString(),
        },
        call.audience,
      ),
  };
}
