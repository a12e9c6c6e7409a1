import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { issueToken, TEST_JWT_SECRET } from '@toolbus/testing';
import { ConfigError, loadConfig } from '@toolbus/service-kit';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfig, checkAuthConfig, isTeamMember, TokenVerifier } from './index.js';

const base = { AUTH_ISSUER: 'https://toolbus.dev', AUTH_AUDIENCE: 'toolbus' };
const shared = { ...base, AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_ALLOW_SHARED_KEY: true };

/** Claims a valid token carries; tests leave one out or change the header. */
function claims(sign: SignJWT): SignJWT {
  return sign.setSubject('mallory').setIssuer(base.AUTH_ISSUER).setAudience(base.AUTH_AUDIENCE);
}

/** A JWT with `alg: none`: a header, a payload and an empty signature. */
function unsignedToken(): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({
    sub: 'mallory',
    iss: base.AUTH_ISSUER,
    aud: base.AUTH_AUDIENCE,
    tenant: 'acme',
    scope: 'registry:admin',
    exp: now + 600,
  })}.`;
}

describe('TokenVerifier on a JWKS', () => {
  let server: Server;
  let jwksUrl: string;
  let privateKey: CryptoKey;
  let publicPem: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256' };
    server = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const verifier = () => new TokenVerifier({ ...base, AUTH_JWKS_URL: jwksUrl });
  const rs256 = () =>
    claims(new SignJWT({ tenant: 'acme', scope: 'registry:read', groups: ['team-crm'] }))
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuedAt();

  it('accepts an RS256 token of the identity provider, with its teams', async () => {
    const token = await rs256().setExpirationTime('5m').sign(privateKey);
    await expect(verifier().verify(token)).resolves.toMatchObject({
      subject: 'mallory',
      scopes: ['registry:read'],
      teams: ['team-crm'],
    });
  });

  it('refuses an HS256 token signed with the public key material (alg confusion)', async () => {
    const token = await claims(new SignJWT({ tenant: 'acme', scope: 'registry:admin' }))
      .setProtectedHeader({ alg: 'HS256', kid: 'idp-1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    await expect(verifier().verify(token)).rejects.toThrow(
      'token algorithm "HS256" is not accepted here; use RS256, ES256, EdDSA',
    );
  });

  it('refuses an unsigned token (alg none)', async () => {
    await expect(verifier().verify(unsignedToken())).rejects.toThrow(
      'unsigned tokens (alg "none") are refused',
    );
  });

  it('refuses a token without an expiry', async () => {
    const token = await rs256().sign(privateKey);
    await expect(verifier().verify(token)).rejects.toThrow(
      'token has no expiry ("exp"): only expiring tokens are accepted',
    );
  });

  it('refuses an algorithm left out of AUTH_JWT_ALGORITHMS', async () => {
    const token = await rs256().setExpirationTime('5m').sign(privateKey);
    const es256Only = new TokenVerifier({
      ...base,
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWT_ALGORITHMS: ['ES256'],
    });
    await expect(es256Only.verify(token)).rejects.toThrow(
      'token algorithm "RS256" is not accepted here; use ES256',
    );
  });
});

describe('TokenVerifier on the shared key', () => {
  const verifier = new TokenVerifier(shared);

  it('refuses a token without an expiry, and an unsigned one', async () => {
    const token = await claims(new SignJWT({ tenant: 'acme' }))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    await expect(verifier.verify(token)).rejects.toThrow('token has no expiry ("exp")');
    await expect(verifier.verify(unsignedToken())).rejects.toThrow('alg "none"');
  });

  it('reads the teams from the configured claim, as a list or a space-separated string', async () => {
    const token = await issueToken({ sub: 'a', teams: ['team-crm', 'team-erp'] });
    expect((await verifier.verify(token)).teams).toEqual(['team-crm', 'team-erp']);
    expect((await verifier.verify(await issueToken({ sub: 'a' }))).teams).toBeUndefined();
    const custom = new TokenVerifier({ ...shared, AUTH_TEAMS_CLAIM: 'toolbus_teams' });
    const spaced = await claims(new SignJWT({ tenant: 'acme', toolbus_teams: 'team-a team-b' }))
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const principal = await custom.verify(spaced);
    expect(principal.teams).toEqual(['team-a', 'team-b']);
    expect(isTeamMember(principal, 'team-b')).toBe(true);
    expect(isTeamMember(principal, 'team-c')).toBe(false);
  });
});

describe('auth configuration', () => {
  const problems = (run: () => void): string[] => {
    try {
      run();
    } catch (error) {
      if (error instanceof ConfigError)
        return error.problems.map((p) => `${p.variable}: ${p.message}`);
      throw error;
    }
    return [];
  };

  it('refuses the shared key beside a JWKS, naming both variables', () => {
    expect(
      problems(() =>
        checkAuthConfig({
          ...shared,
          AUTH_JWKS_URL: 'https://login.example/jwks.json',
        }),
      ),
    ).toEqual([
      'AUTH_JWKS_URL, AUTH_JWT_SECRET: are both set: with a JWKS the shared HS256 key is never accepted; unset AUTH_JWT_SECRET',
    ]);
  });

  it('accepts the shared key only with its explicit switch', () => {
    expect(
      problems(() => checkAuthConfig({ ...base, AUTH_JWT_SECRET: TEST_JWT_SECRET }))[0],
    ).toMatch(/^AUTH_JWT_SECRET: is set, but AUTH_ALLOW_SHARED_KEY is not true/);
    expect(problems(() => checkAuthConfig({ ...base, AUTH_ALLOW_SHARED_KEY: true }))).toEqual([
      'AUTH_ALLOW_SHARED_KEY: is true, but AUTH_JWT_SECRET is unset',
    ]);
    expect(
      problems(() =>
        checkAuthConfig({
          ...base,
          AUTH_JWKS_URL: 'https://l.example/j',
          AUTH_ALLOW_SHARED_KEY: true,
        }),
      ),
    ).toEqual([
      'AUTH_ALLOW_SHARED_KEY: is true, but AUTH_JWKS_URL is set: the shared key is never accepted with a JWKS',
    ]);
    expect(problems(() => checkAuthConfig(shared))).toEqual([]);
    expect(loadConfig(authConfig, {}).AUTH_ALLOW_SHARED_KEY).toBe(false);
  });

  it('pins asymmetric algorithms: never none, never HS*', () => {
    expect(loadConfig(authConfig, {}).AUTH_JWT_ALGORITHMS).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(problems(() => loadConfig(authConfig, { AUTH_JWT_ALGORITHMS: 'RS256,none' }))).toEqual([
      'AUTH_JWT_ALGORITHMS: invalid value "RS256,none": "none" means unsigned tokens and is never accepted',
    ]);
    expect(problems(() => loadConfig(authConfig, { AUTH_JWT_ALGORITHMS: 'HS256' }))[0]).toContain(
      '"HS256" is a shared-key algorithm',
    );
  });
});
