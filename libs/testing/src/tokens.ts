import { SignJWT } from 'jose';

/** The HS256 key tests configure services with (AUTH_JWT_SECRET, with AUTH_ALLOW_SHARED_KEY=true). */
export const TEST_JWT_SECRET = 'toolbus-test-signing-key-0123456789abcdef';

export interface TestTokenClaims {
  sub: string;
  scopes?: string[];
  tenant?: string;
  regions?: string[];
  /** The caller's teams, as the `groups` claim (AUTH_TEAMS_CLAIM's default). */
  teams?: string[];
  kind?: 'user' | 'service' | 'api_key';
  issuer?: string;
  audience?: string;
  expiresIn?: string;
}

/** Signs a token the way the identity provider would, for services started with TEST_JWT_SECRET. */
export async function issueToken(
  claims: TestTokenClaims,
  secret: string = TEST_JWT_SECRET,
): Promise<string> {
  return new SignJWT({
    scope: (claims.scopes ?? []).join(' '),
    tenant: claims.tenant ?? 'acme',
    toolbus_kind: claims.kind ?? 'user',
    ...(claims.regions ? { regions: claims.regions } : {}),
    ...(claims.teams ? { groups: claims.teams } : {}),
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(claims.issuer ?? 'https://toolbus.dev')
    .setAudience(claims.audience ?? 'toolbus')
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(secret));
}
