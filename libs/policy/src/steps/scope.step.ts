import { hasScope, type Principal, type ToolDefinition } from '@toolbus/contracts';
import { ALLOW, refuse, RefusalCodes, type PolicyStep } from '../policy.js';

/** The tool's scopes the principal does not hold (wildcards such as `crm:*` count). */
export function missingScopes(
  principal: Pick<Principal, 'scopes'>,
  tool: ToolDefinition,
): string[] {
  return tool.scopes.filter((s) => !hasScope(principal, s));
}

/**
 * Scope: the principal holds every scope the tool needs. A model asking for a tool that was
 * not offered in its ask is refused as excessive agency, whatever its scopes: it acts beyond
 * what it was given.
 */
export function scopeStep(): PolicyStep {
  return {
    name: 'scope',
    async decide(call) {
      const { tool } = call;
      if (call.offeredTools && !call.offeredTools.has(tool.name))
        return refuse({
          step: 'scope',
          code: RefusalCodes.excessiveAgency,
          errorClass: 'forbidden',
          retryable: false,
          message: `The tool ${tool.name} was not offered in this conversation, so it may not be called. Use only the tools offered (find_tools searches for others).`,
        });
      const missing = missingScopes(call.principal, tool);
      if (missing.length > 0)
        return refuse({
          step: 'scope',
          code: RefusalCodes.insufficientScope,
          errorClass: 'forbidden',
          retryable: false,
          message: `Calling ${tool.name} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which the caller does not hold.`,
        });
      return ALLOW;
    },
  };
}
