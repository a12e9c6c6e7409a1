import { canonicalJson, type SafeError, type ToolCallRequested } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import {
  CallGrantError,
  CallGrantVerifier,
  fileGrantKeys,
  hasScopes,
  urlGrantKeys,
  type CallGrant,
  type CallGrantRefusal,
} from '@toolbus/security';
import { ConfigError } from '@toolbus/service-kit';
import type { ToolConsumerConfig } from './config.js';
import type { Tool } from './define-tool.js';
import { toolMetrics } from './metrics.js';

/** Error codes of refused grants whose HTTP answer is 401: no trustworthy grant was shown. */
export const UNAUTHENTICATED_GRANT_CODES: ReadonlySet<string> = new Set([
  'grant_missing',
  'grant_invalid',
  'grant_expired',
]);

const REFUSALS: Record<CallGrantRefusal, string> = {
  missing: 'grant_missing',
  malformed: 'grant_invalid',
  signature: 'grant_invalid',
  issuer: 'grant_invalid',
  expired: 'grant_expired',
  audience: 'grant_audience',
  tool: 'grant_tool',
  input: 'grant_input',
  idempotency_key: 'grant_idempotency_key',
  keys_unavailable: 'grant_keys_unavailable',
};

/** The verifier of a consumer's call grants from its config; a ConfigError when it has no keys. */
export function callGrantVerifierFromConfig(
  service: string,
  config: Pick<
    ToolConsumerConfig,
    'CALL_GRANT_JWKS_FILE' | 'CALL_GRANT_JWKS_URL' | 'CALL_GRANT_ISSUER'
  >,
): CallGrantVerifier {
  const { CALL_GRANT_JWKS_FILE: file, CALL_GRANT_JWKS_URL: url } = config;
  if (!file === !url)
    throw new ConfigError([
      {
        variable: file ? 'CALL_GRANT_JWKS_URL' : 'CALL_GRANT_JWKS_FILE',
        message: file
          ? 'is set with CALL_GRANT_JWKS_FILE: give the call grant keys one way only'
          : 'is required (or CALL_GRANT_JWKS_URL): every call is verified against the dispatcher’s keys, and there is no switch to turn that off',
      },
    ]);
  return new CallGrantVerifier({
    keys: file ? fileGrantKeys(file) : urlGrantKeys(url!),
    issuer: config.CALL_GRANT_ISSUER,
    audience: service,
  });
}

/** What the grant settles about a call: who calls, for which tenant, in which region. */
export type AuthorizedCall = Pick<CallGrant, 'principal' | 'tenant' | 'region'>;

/**
 * The authorize step: a call runs only under a call grant that the dispatcher signed for this
 * service, this tool, this idempotency key and this input, whose scopes cover the tool's and
 * whose region is the tool's. Principal, tenant and region are taken from the grant; the
 * body's copies (kept for older readers) must say the same or the call is refused. A refusal
 * never reaches the handler or the dedup table; it is logged and counted, not audited
 * (consumers do not write the ledger).
 */
export class CallAuthorizer {
  constructor(
    private readonly verifier: CallGrantVerifier,
    private readonly service: string,
    private readonly defaultRegion: string,
    private readonly logger: Logger,
  ) {}

  async authorize(
    call: ToolCallRequested,
    tool: Tool,
  ): Promise<{ granted: AuthorizedCall } | { refused: SafeError }> {
    let grant: CallGrant;
    try {
      grant = await this.verifier.verify(call.grant, call);
    } catch (error) {
      const refusal =
        error instanceof CallGrantError
          ? error
          : new CallGrantError('malformed', 'the call grant could not be verified');
      return this.refuse(call, refusal.reason, REFUSALS[refusal.reason], refusal.message);
    }
    const differs = mismatches(call, grant);
    if (differs.length > 0)
      return this.refuse(
        call,
        'mismatch',
        'grant_mismatch',
        `the call's ${differs.join(', ')} differ from its call grant's`,
      );
    if (!hasScopes(grant, tool.scopes)) {
      const missing = tool.scopes.filter((s) => !hasScopes(grant, [s]));
      return this.refuse(
        call,
        'scope',
        'grant_scope',
        `the call grant lacks the scopes ${tool.name} needs: ${missing.join(', ')}`,
      );
    }
    const region = tool.region ?? this.defaultRegion;
    if (grant.region !== region)
      return this.refuse(
        call,
        'region',
        'grant_region',
        `${tool.name} processes data in region ${region}; the call grant is for region ${grant.region}`,
      );
    return { granted: { principal: grant.principal, tenant: grant.tenant, region: grant.region } };
  }

  private refuse(
    call: ToolCallRequested,
    reason: string,
    code: string,
    message: string,
  ): { refused: SafeError } {
    toolMetrics.grantRefusals().inc({ service: this.service, reason });
    this.logger.warn(
      {
        reason,
        tool: call.tool,
        idempotencyKey: call.idempotencyKey,
        callId: call.callId,
        claimedSubject: call.principal.subject,
        claimedTenant: call.tenant,
      },
      `tool call refused: ${message}`,
    );
    const unavailable = reason === 'keys_unavailable';
    return {
      refused: {
        class: unavailable ? 'unavailable' : 'forbidden',
        code,
        message,
        retryable: unavailable,
      },
    };
  }
}

/** The body's fields that say something else than the grant (whose word counts). */
function mismatches(call: ToolCallRequested, grant: CallGrant): string[] {
  const out: string[] = [];
  const p = call.principal;
  if (p.subject !== grant.principal.subject || p.kind !== grant.principal.kind)
    out.push('principal');
  if (p.tenant !== grant.tenant || call.tenant !== grant.tenant) out.push('tenant');
  if (canonicalJson([...p.scopes].sort()) !== canonicalJson([...grant.scopes].sort()))
    out.push('scopes');
  if (call.region !== grant.region) out.push('region');
  if (call.toolVersion && grant.version && call.toolVersion !== grant.version)
    out.push('tool version');
  return out;
}
