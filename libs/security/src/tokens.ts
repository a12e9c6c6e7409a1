import { Principal, Region, Scope } from '@toolbus/contracts';
import { env, type ConfigOf } from '@toolbus/service-kit';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

/** Config variables of every service that verifies callers' tokens. */
export const authConfig = {
  AUTH_JWKS_URL: {
    schema: env.optional(env.url()),
    description:
      "The identity provider's JWKS URL (RS256/ES256 tokens); takes precedence over AUTH_JWT_SECRET",
  },
  AUTH_JWT_SECRET: {
    schema: env.optional(z_min32()),
    secret: true,
    description: 'Shared HS256 key (at least 32 characters) for service and development tokens',
  },
  AUTH_ISSUER: {
    schema: env.string(),
    default: 'https://toolbus.dev',
    description: 'Expected `iss` of tokens',
  },
  AUTH_AUDIENCE: {
    schema: env.string(),
    default: 'toolbus',
    description: 'Expected `aud` of tokens',
  },
};

function z_min32() {
  return env.string().min(32, 'must be at least 32 characters');
}

export type AuthConfig = ConfigOf<typeof authConfig>;

/** Why a token was refused; safe to return to the caller. */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/**
 * Verifies bearer tokens (signature, issuer, audience, expiry) and turns their claims into a
 * Principal: `sub`; `scope` (space-separated) or `scp` (list); `tenant` (required); `regions`
 * (optional list); `toolbus_kind` (user, service or api_key; default user); `name`.
 */
export class TokenVerifier {
  private readonly key: JWTVerifyGetKey | Uint8Array;

  constructor(
    private readonly config: {
      AUTH_JWKS_URL?: string;
      AUTH_JWT_SECRET?: string;
      AUTH_ISSUER: string;
      AUTH_AUDIENCE: string;
    },
  ) {
    if (config.AUTH_JWKS_URL) this.key = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
    else if (config.AUTH_JWT_SECRET) this.key = new TextEncoder().encode(config.AUTH_JWT_SECRET);
    else throw new Error('set AUTH_JWKS_URL or AUTH_JWT_SECRET: tokens cannot be verified');
  }

  /** The principal of an `Authorization` header value; throws UnauthenticatedError. */
  async verifyHeader(header: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match?.[1])
      throw new UnauthenticatedError('send a bearer token: Authorization: Bearer <token>');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const options = { issuer: this.config.AUTH_ISSUER, audience: this.config.AUTH_AUDIENCE };
      payload =
        this.key instanceof Uint8Array
          ? (await jwtVerify(token, this.key, { ...options, algorithms: ['HS256'] })).payload
          : (await jwtVerify(token, this.key, options)).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed)
        throw new UnauthenticatedError(`token claim "${error.claim}" is invalid: ${error.reason}`);
      throw new UnauthenticatedError('token signature or format is invalid');
    }
    return principalOf(payload);
  }
}

function principalOf(claims: JWTPayload): Principal {
  const raw = claims as Record<string, unknown>;
  const scopes =
    typeof raw['scope'] === 'string'
      ? raw['scope'].split(/\s+/).filter(Boolean)
      : Array.isArray(raw['scp'])
        ? raw['scp']
        : [];
  const candidate = {
    subject: claims.sub,
    kind: raw['toolbus_kind'] ?? 'user',
    tenant: raw['tenant'],
    scopes: scopes.filter((s) => Scope.safeParse(s).success),
    ...(Array.isArray(raw['regions'])
      ? { regions: raw['regions'].filter((r) => Region.safeParse(r).success) }
      : {}),
    ...(typeof raw['name'] === 'string' ? { displayName: raw['name'] } : {}),
  };
  const parsed = Principal.safeParse(candidate);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path[0];
    const claim = field === 'subject' ? 'sub' : field === 'kind' ? 'toolbus_kind' : String(field);
    throw new UnauthenticatedError(`token claim "${claim}" is missing or invalid`);
  }
  return parsed.data;
}

// Scope matching is part of the contract (the policy library shares it without the guard).
export { hasScope, hasScopes } from '@toolbus/contracts';
