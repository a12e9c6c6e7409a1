import type { Principal } from './common.js';

/*
 * What a scope covers is part of the contract, not of any one service: the gateway filters
 * the tools it lists, the registry its catalog, the orchestrator's policy every call, and all
 * must agree. It lives here, beside `Scope`, so libraries that must not pull in the Nest
 * guard (the policy library) share the one definition.
 */

/** True when `principal` holds `scope`, directly or through a wildcard such as `registry:*`. */
export function hasScope(principal: Pick<Principal, 'scopes'>, scope: string): boolean {
  if (principal.scopes.includes(scope)) return true;
  const parts = scope.split(':');
  for (let i = parts.length - 1; i >= 1; i--) {
    if (principal.scopes.includes(`${parts.slice(0, i).join(':')}:*`)) return true;
  }
  return false;
}

/** True when `principal` holds every one of `scopes`. */
export function hasScopes(
  principal: Pick<Principal, 'scopes'>,
  scopes: readonly string[],
): boolean {
  return scopes.every((s) => hasScope(principal, s));
}
