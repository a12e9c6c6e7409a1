import { createHash, type KeyObject } from 'node:crypto';
import { canonicalJson, Principal } from '@toolbus/contracts';
import { errors as joseErrors, jwtVerify } from 'jose';
import { signEdDsaJwt } from './eddsa-jwt.js';
import { z } from 'zod';
import type { GrantKeys } from './grant-keys.js';

/** `typ` of a principal assertion. */
export const PRINCIPAL_ASSERTION_TYP = 'toolbus-principal+jwt';

const Claims = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  sub: z.string().min(1).max(256),
  exp: z.number(),
  iat: z.number(),
  kind: Principal.shape.kind,
  tenant: Principal.shape.tenant,
  scopes: Principal.shape.scopes,
  regions: Principal.shape.regions,
  name: z.string().max(256).optional(),
  /** Hash of the request the assertion is for: replaying it for another request fails. */
  rh: z.string().min(16).max(128),
});

/** Why an assertion was refused; the message is safe to return. */
export class PrincipalAssertionError extends Error {
  override readonly name = 'PrincipalAssertionError';
}

/**
 * The hash an assertion binds: the canonical JSON of what was asked (a question and its
 * conversation, or a tool and its input), so one verified caller's assertion cannot carry
 * another request.
 */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('base64url');
}

/**
 * Signs the principal the gateway verified (from its bearer token, API key or client
 * certificate) for one request to the orchestrator. The caller's own token never goes past
 * the gateway; this assertion is what travels, over Kafka or internal HTTP.
 */
export class PrincipalAssertionSigner {
  constructor(
    private readonly options: {
      key: KeyObject;
      kid: string;
      issuer: string;
      audience: string;
      ttlSeconds?: number;
    },
  ) {
    if (options.key.type !== 'private' || options.key.asymmetricKeyType !== 'ed25519')
      throw new Error('a principal assertion key must be an Ed25519 private key');
  }

  sign(principal: Principal, request: unknown): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return Promise.resolve(
      signEdDsaJwt(
        { kid: this.options.kid, typ: PRINCIPAL_ASSERTION_TYP },
        {
          kind: principal.kind,
          tenant: principal.tenant,
          scopes: principal.scopes,
          ...(principal.regions ? { regions: principal.regions } : {}),
          ...(principal.displayName ? { name: principal.displayName } : {}),
          rh: requestHash(request),
          iss: this.options.issuer,
          aud: this.options.audience,
          sub: principal.subject,
          iat: now,
          exp: now + (this.options.ttlSeconds ?? 600),
        },
        this.options.key,
      ),
    );
  }
}

/**
 * Verifies the gateway's assertions: EdDSA only, the assertion `typ`, a key of the gateway's
 * JWKS, issuer, audience, expiry, and that it was signed for this very request.
 */
export class PrincipalAssertionVerifier {
  constructor(
    private readonly options: {
      keys: GrantKeys;
      issuer: string;
      audience: string;
      clockToleranceSeconds?: number;
    },
  ) {}

  check(): Promise<void> {
    return this.options.keys.check();
  }

  async verify(token: string | undefined, request: unknown): Promise<Principal> {
    if (!token)
      throw new PrincipalAssertionError(
        'the request carries no principal assertion: only the gateway may send it',
      );
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, (h, t) => this.options.keys.key(h, t), {
        algorithms: ['EdDSA'],
        typ: PRINCIPAL_ASSERTION_TYP,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
      }));
    } catch (error) {
      if (error instanceof PrincipalAssertionError) throw error;
      if (error instanceof joseErrors.JWTExpired)
        throw new PrincipalAssertionError('the principal assertion has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed)
        throw new PrincipalAssertionError(
          `the principal assertion's claim "${error.claim}" is invalid: ${error.reason}`,
        );
      throw new PrincipalAssertionError(
        'the principal assertion is not signed by the gateway (signature, key or format)',
      );
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success)
      throw new PrincipalAssertionError('the principal assertion is missing claims');
    if (claims.data.rh !== requestHash(request))
      throw new PrincipalAssertionError(
        'the principal assertion was signed for another request (replayed)',
      );
    const c = claims.data;
    return {
      subject: c.sub,
      kind: c.kind,
      tenant: c.tenant,
      scopes: c.scopes,
      ...(c.regions ? { regions: c.regions } : {}),
      ...(c.name ? { displayName: c.name } : {}),
    };
  }
}
