import type { Principal } from '@toolbus/contracts';
import {
  fileGrantKeys,
  PrincipalAssertionError,
  PrincipalAssertionVerifier,
  urlGrantKeys,
} from '@toolbus/security';
import { ConfigError } from '@toolbus/service-kit';
import type { OrchestratorConfig } from '../config.js';

/**
 * What the orchestrator believes of a caller: only the principal the gateway verified and
 * signed for this very request. A principal a message merely states (a pod on the bus
 * claiming to be someone) is refused.
 */
export class EdgeTrust {
  constructor(
    private readonly verifier: PrincipalAssertionVerifier,
    private readonly file?: string,
  ) {}

  static fromConfig(config: OrchestratorConfig): EdgeTrust {
    const file = config.GATEWAY_JWKS_FILE;
    const url = config.GATEWAY_JWKS_URL;
    if (Boolean(file) === Boolean(url))
      throw new ConfigError([
        {
          variable: file ? 'GATEWAY_JWKS_URL' : 'GATEWAY_JWKS_FILE',
          message: file
            ? 'is set with GATEWAY_JWKS_FILE: give exactly one source of the gateway keys'
            : 'or GATEWAY_JWKS_URL is required: the gateway keys that sign principal assertions',
        },
      ]);
    return new EdgeTrust(
      new PrincipalAssertionVerifier({
        keys: file ? fileGrantKeys(file) : urlGrantKeys(url!),
        issuer: config.GATEWAY_ISSUER,
        audience: config.ORCHESTRATOR_AUDIENCE,
      }),
      file,
    );
  }

  /**
   * A keys file that is missing or holds no usable key is a deployment mistake: refuse to
   * start. A URL may come up after the orchestrator (the gateway serves it); until then every
   * assertion is refused as retryable.
   */
  async check(): Promise<void> {
    if (this.file) await this.verifier.check();
  }

  /**
   * The principal of a request, or why it is not believed. The body's own `principal`, when
   * given, must be the asserted one: a mismatch is a forgery, not a choice.
   */
  async principalOf(
    assertion: string | undefined,
    request: unknown,
    stated?: Principal,
  ): Promise<{ principal: Principal } | { refusal: string }> {
    try {
      const principal = await this.verifier.verify(assertion, request);
      const differs = stated ? differingField(stated, principal) : undefined;
      if (differs)
        return {
          refusal: `the principal in the request is not the one the gateway asserted (its ${differs} differs)`,
        };
      return { principal };
    } catch (error) {
      if (error instanceof PrincipalAssertionError) return { refusal: error.message };
      throw error;
    }
  }
}

/** What a principal assertion of an ask is bound to. */
export function askBinding(ask: { contextId: string; askId?: string; question: string }): unknown {
  return { contextId: ask.contextId, askId: ask.askId ?? null, question: ask.question };
}

/** What a principal assertion of a tool listing is bound to. */
export function toolListBinding(): unknown {
  return { operation: 'tools/list' };
}

/** What a principal assertion of a direct invocation is bound to. */
export function invocationBinding(call: {
  tool: string;
  toolVersion?: string;
  input: unknown;
  idempotencyKey?: string;
}): unknown {
  return {
    tool: call.tool,
    toolVersion: call.toolVersion ?? null,
    input: call.input,
    idempotencyKey: call.idempotencyKey ?? null,
  };
}

/** The first field in which a principal a message states differs from the asserted one. */
function differingField(stated: Principal, asserted: Principal): string | undefined {
  const sameSet = (a: readonly string[] = [], b: readonly string[] = []) =>
    a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
  if (stated.subject !== asserted.subject) return 'subject';
  if (stated.tenant !== asserted.tenant) return 'tenant';
  if (stated.kind !== asserted.kind) return 'kind';
  if (!sameSet(stated.scopes, asserted.scopes)) return 'scopes';
  if ((stated.regions || asserted.regions) && !sameSet(stated.regions, asserted.regions))
    return 'regions';
  return undefined;
}
