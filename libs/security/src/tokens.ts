import { Principal, Region, Scope } from '@toolbus/contracts';
import { ConfigError, env, type ConfigOf } from '@toolbus/service-kit';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';

/** Asymmetric JWS algorithms a JWKS may verify; shared-key (HS*) and `none` never. */
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const algorithmList = env.list().pipe(
  z
    .array(z.string())
    .min(1, 'name at least one algorithm')
    .superRefine((algs, ctx) => {
      for (const alg of algs) {
        if ((ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) continue;
        ctx.addIssue({
          code: 'custom',
          message:
            alg.toLowerCase() === 'none'
              ? '"none" means unsigned tokens and is never accepted'
              : /^HS/i.test(alg)
                ? `"${alg}" is a shared-key algorithm; a JWKS verifies only ${ASYMMETRIC_ALGORITHMS.join(', ')}`
                : `"${alg}" is not one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
        });
      }
    }),
);

/** Config variables of every service that verifies callers' tokens. */
export const authConfig = {
  AUTH_JWKS_URL: {
    schema: env.optional(env.url()),
    description:
      "The identity provider's JWKS URL; tokens must use one of AUTH_JWT_ALGORITHMS. Never together with AUTH_JWT_SECRET",
  },
  AUTH_JWT_ALGORITHMS: {
    schema: algorithmList,
    default: 'RS256,ES256,EdDSA',
    description:
      'Algorithms a token verified with AUTH_JWKS_URL may use (asymmetric only: none and HS* are refused)',
  },
  AUTH_JWT_SECRET: {
    schema: env.optional(z_min32()),
    secret: true,
    description:
      'Shared HS256 key (at least 32 characters) for the embedded mode and development: needs AUTH_ALLOW_SHARED_KEY',
  },
  AUTH_ALLOW_SHARED_KEY: {
    schema: env.bool(),
    default: 'false',
    description:
      'Accept HS256 tokens signed with AUTH_JWT_SECRET (embedded mode, development); refused with AUTH_JWKS_URL',
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
  AUTH_TEAMS_CLAIM: {
    schema: env.string(),
    default: 'groups',
    description:
      "Token claim listing the caller's teams (a list, or space-separated); tool owners are teams",
  },
};

function z_min32() {
  return env.string().min(32, 'must be at least 32 characters');
}

export type AuthConfig = ConfigOf<typeof authConfig>;

/** What {@link TokenVerifier} needs; the variables left out take authConfig's defaults. */
export type TokenVerifierConfig = Pick<AuthConfig, 'AUTH_ISSUER' | 'AUTH_AUDIENCE'> &
  Partial<Omit<AuthConfig, 'AUTH_ISSUER' | 'AUTH_AUDIENCE'>>;

const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/**
 * Throws a ConfigError unless exactly one way of verifying tokens is configured: a JWKS, or
 * the shared key with its explicit switch. A shared key beside a JWKS would let anyone holding
 * that key mint tokens the identity provider never issued, so the pair is refused outright.
 */
export function checkAuthConfig(config: TokenVerifierConfig): void {
  const problems: Array<{ variable: string; message: string }> = [];
  const jwks = Boolean(config.AUTH_JWKS_URL);
  const secret = Boolean(config.AUTH_JWT_SECRET);
  const allowed = config.AUTH_ALLOW_SHARED_KEY === true;
  if (jwks && secret)
    problems.push({
      variable: 'AUTH_JWKS_URL, AUTH_JWT_SECRET',
      message:
        'are both set: with a JWKS the shared HS256 key is never accepted; unset AUTH_JWT_SECRET',
    });
  else if (jwks && allowed)
    problems.push({
      variable: 'AUTH_ALLOW_SHARED_KEY',
      message: 'is true, but AUTH_JWKS_URL is set: the shared key is never accepted with a JWKS',
    });
  else if (secret && !allowed)
    problems.push({
      variable: 'AUTH_JWT_SECRET',
      message:
        'is set, but AUTH_ALLOW_SHARED_KEY is not true: the shared HS256 key is for the embedded mode and development; set AUTH_ALLOW_SHARED_KEY=true there, or use AUTH_JWKS_URL',
    });
  else if (!secret && allowed)
    problems.push({
      variable: 'AUTH_ALLOW_SHARED_KEY',
      message: 'is true, but AUTH_JWT_SECRET is unset',
    });
  else if (!jwks && !secret)
    problems.push({
      variable: 'AUTH_JWKS_URL',
      message:
        'is required (or AUTH_JWT_SECRET with AUTH_ALLOW_SHARED_KEY): tokens cannot be verified',
    });
  if (problems.length) throw new ConfigError(problems);
}

/** Why a token was refused; safe to return to the caller. */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/**
 * Verifies bearer tokens (signature with a pinned algorithm, issuer, audience, a required
 * expiry) and turns their claims into a Principal: `sub`; `scope` (space-separated) or `scp`
 * (list); `tenant` (required); `regions` (optional list); the teams claim (AUTH_TEAMS_CLAIM,
 * default `groups`); `toolbus_kind` (user, service or api_key; default user); `name`.
 */
export class TokenVerifier {
  private readonly key: JWTVerifyGetKey | Uint8Array;
  private readonly algorithms: string[];
  private readonly teamsClaim: string;

  constructor(private readonly config: TokenVerifierConfig) {
    checkAuthConfig(config);
    this.teamsClaim = config.AUTH_TEAMS_CLAIM ?? 'groups';
    if (config.AUTH_JWKS_URL) {
      this.key = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
      this.algorithms = config.AUTH_JWT_ALGORITHMS ?? DEFAULT_ALGORITHMS;
    } else {
      this.key = new TextEncoder().encode(config.AUTH_JWT_SECRET);
      this.algorithms = ['HS256'];
    }
  }

  /** The principal of an `Authorization` header value; throws UnauthenticatedError. */
  async verifyHeader(header: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match?.[1])
      throw new UnauthenticatedError('send a bearer token: Authorization: Bearer <token>');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    this.checkAlgorithm(token);
    let payload: JWTPayload;
    try {
      const options = {
        issuer: this.config.AUTH_ISSUER,
        audience: this.config.AUTH_AUDIENCE,
        algorithms: this.algorithms,
        requiredClaims: ['exp'],
      };
      payload =
        this.key instanceof Uint8Array
          ? (await jwtVerify(token, this.key, options)).payload
          : (await jwtVerify(token, this.key, options)).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        if (error.claim === 'exp' && error.reason === 'missing')
          throw new UnauthenticatedError(
            'token has no expiry ("exp"): only expiring tokens are accepted',
          );
        throw new UnauthenticatedError(`token claim "${error.claim}" is invalid: ${error.reason}`);
      }
      throw new UnauthenticatedError('token signature or format is invalid');
    }
    return principalOf(payload, this.teamsClaim);
  }

  /** The header's `alg` before any key is looked up: `none` and unpinned algorithms are refused. */
  private checkAlgorithm(token: string): void {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new UnauthenticatedError('token signature or format is invalid');
    }
    if (typeof alg === 'string' && alg.toLowerCase() === 'none')
      throw new UnauthenticatedError('unsigned tokens (alg "none") are refused');
    if (typeof alg !== 'string' || !this.algorithms.includes(alg))
      throw new UnauthenticatedError(
        `token algorithm ${JSON.stringify(alg) ?? 'missing'} is not accepted here; use ${this.algorithms.join(', ')}`,
      );
  }
}

function principalOf(claims: JWTPayload, teamsClaim: string): Principal {
  const raw = claims as Record<string, unknown>;
  const scopes =
    typeof raw['scope'] === 'string'
      ? raw['scope'].split(/\s+/).filter(Boolean)
      : Array.isArray(raw['scp'])
        ? raw['scp']
        : [];
  const teams = teamsOf(raw[teamsClaim]);
  const candidate = {
    subject: claims.sub,
    kind: raw['toolbus_kind'] ?? 'user',
    tenant: raw['tenant'],
    scopes: scopes.filter((s) => Scope.safeParse(s).success),
    ...(Array.isArray(raw['regions'])
      ? { regions: raw['regions'].filter((r) => Region.safeParse(r).success) }
      : {}),
    ...(teams ? { teams } : {}),
    ...(typeof raw['name'] === 'string' ? { displayName: raw['name'] } : {}),
  };
  const parsed = Principal.safeParse(candidate);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path[0];
    const claim =
      field === 'subject'
        ? 'sub'
        : field === 'kind'
          ? 'toolbus_kind'
          : field === 'teams'
            ? teamsClaim
            : String(field);
    throw new UnauthenticatedError(`token claim "${claim}" is missing or invalid`);
  }
  return parsed.data;
}

/** A list of team names, or a space-separated string of them; anything else names no team. */
function teamsOf(value: unknown): string[] | undefined {
  const list =
    typeof value === 'string'
      ? value.split(/\s+/)
      : Array.isArray(value)
        ? value.filter((t): t is string => typeof t === 'string')
        : undefined;
  return list?.filter((t) => t.length > 0 && t.length <= 128).slice(0, 256);
}

// Scope matching is part of the contract (the policy library shares it without the guard).
export { hasScope, hasScopes } from '@toolbus/contracts';

/** True when `principal` is a member of `team` (the teams claim of its token). */
export function isTeamMember(principal: Pick<Principal, 'teams'>, team: string): boolean {
  return principal.teams?.includes(team) ?? false;
}
