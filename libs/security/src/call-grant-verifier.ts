import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import {
  CALL_GRANT_ALG,
  CALL_GRANT_TYP,
  CallGrantClaims,
  CallGrantError,
  callGrantOf,
  type CallGrant,
} from './call-grant.js';
import { inputHash } from './input-hash.js';
import type { GrantKeys } from './grant-keys.js';

/** Longest grant accepted at all; a compact EdDSA grant is well under 2 KiB. */
const MAX_GRANT_LENGTH = 8_192;

export interface CallGrantVerifierOptions {
  keys: GrantKeys;
  /** The `iss` grants must carry (the dispatcher's). */
  issuer: string;
  /** This consumer service: grants for any other are refused. */
  audience: string;
  /**
   * Clock skew allowed between the dispatcher and this consumer, applied to `exp` and `iat`.
   * Default 5 s (grants carry whole seconds, so a grant for a call due in 400 ms already
   * looks expired to a clock a little ahead).
   */
  clockToleranceSeconds?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** What the call itself says, which the grant must match. */
export interface CallUnderGrant {
  tool: string;
  idempotencyKey: string;
  input: unknown;
}

/**
 * Verifies call grants: EdDSA only (the `alg` is pinned, whatever the header says), the
 * grant `typ`, a `kid` found in the {@link GrantKeys}, `iss`, `aud` = this service, `exp` and
 * `iat` required, and then that the grant is for this very call: its tool, idempotency key and
 * the hash of its input. Every refusal is a {@link CallGrantError} whose reason and message are
 * safe to return to the caller.
 */
export class CallGrantVerifier {
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(private readonly options: CallGrantVerifierOptions) {
    this.tolerance = options.clockToleranceSeconds ?? 5;
    this.now = options.now ?? Date.now;
  }

  get audience(): string {
    return this.options.audience;
  }

  /** Loads the keys; rejects with what is wrong with them (call it at start-up). */
  check(): Promise<void> {
    return this.options.keys.check();
  }

  /** The grant's claims when `token` authorizes `call`; throws a {@link CallGrantError}. */
  async verify(token: string | undefined, call: CallUnderGrant): Promise<CallGrant> {
    if (!token)
      throw new CallGrantError(
        'missing',
        'the call carries no call grant (the dispatcher signs one for every call)',
      );
    if (token.length > MAX_GRANT_LENGTH)
      throw new CallGrantError('malformed', 'the call grant is too long to be one');
    const grant = callGrantOf(await this.verifySignature(token));
    if (grant.tool !== call.tool)
      throw new CallGrantError(
        'tool',
        `the call grant is for tool "${grant.tool}", not "${call.tool}"`,
      );
    if (grant.idempotencyKey !== call.idempotencyKey)
      throw new CallGrantError(
        'idempotency_key',
        'the call grant was signed for another idempotency key',
      );
    if (grant.inputHash !== safeInputHash(call.input))
      throw new CallGrantError('input', 'the call grant was signed for another input');
    return grant;
  }

  private async verifySignature(token: string): Promise<CallGrantClaims> {
    let payload: JWTPayload;
    try {
      if (!decodeProtectedHeader(token).kid)
        throw new CallGrantError('malformed', 'the call grant names no key (kid)');
      payload = (
        await jwtVerify(token, (header, jws) => this.options.keys.key(header, jws), {
          algorithms: [CALL_GRANT_ALG],
          typ: CALL_GRANT_TYP,
          issuer: this.options.issuer,
          audience: this.options.audience,
          requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp'],
          clockTolerance: this.tolerance,
          currentDate: new Date(this.now()),
        })
      ).payload;
    } catch (error) {
      throw refusalOf(error, this.options);
    }
    const claims = CallGrantClaims.safeParse(payload);
    if (!claims.success) {
      const issue = claims.error.issues[0];
      throw new CallGrantError(
        'malformed',
        `the call grant's claim "${String(issue?.path[0] ?? '?')}" is missing or invalid`,
      );
    }
    return claims.data;
  }
}

function safeInputHash(input: unknown): string | undefined {
  try {
    return inputHash(input);
  } catch {
    return undefined;
  }
}

function refusalOf(error: unknown, expected: { issuer: string; audience: string }): CallGrantError {
  if (error instanceof CallGrantError) return error;
  if (error instanceof joseErrors.JWTExpired) {
    const exp = (error.payload as { exp?: unknown }).exp;
    return new CallGrantError(
      'expired',
      typeof exp === 'number'
        ? `the call grant expired at ${new Date(exp * 1000).toISOString()}`
        : 'the call grant has expired',
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return new CallGrantError(
        'audience',
        `the call grant is for another service, not "${expected.audience}"`,
      );
    if (error.claim === 'iss')
      return new CallGrantError(
        'issuer',
        `the call grant was not issued by the expected dispatcher "${expected.issuer}"`,
      );
    return new CallGrantError(
      'malformed',
      `the call grant's "${error.claim}" is invalid: ${error.reason}`,
    );
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  )
    return new CallGrantError(
      'signature',
      'the call grant is not signed by a key this service trusts',
    );
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return new CallGrantError('malformed', `call grants are signed with ${CALL_GRANT_ALG} only`);
  return new CallGrantError('malformed', 'the call grant is not a well-formed signed grant');
}
