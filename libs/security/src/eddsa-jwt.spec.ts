import { generateKeyPairSync } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signEdDsaJwt } from './eddsa-jwt.js';

describe('signEdDsaJwt', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const claims = {
    tenant: 'acme',
    scopes: ['crm:read'],
    name: 'Ålice “quoted” \u2028',
    iss: 'toolbus-orchestrator',
    aud: 'crm',
    sub: 'alice',
    iat: 1_767_312_000,
    exp: 1_767_312_300,
  };

  it('makes the very token jose makes of the same header and claims', async () => {
    const { iss, aud, sub, iat, exp, ...rest } = claims;
    const jose = await new SignJWT(rest)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'toolbus-grant+jwt' })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
    expect(signEdDsaJwt({ kid: 'k1', typ: 'toolbus-grant+jwt' }, claims, privateKey)).toBe(jose);
  });

  it('verifies with jose, and a changed claim does not', async () => {
    const token = signEdDsaJwt({ kid: 'k1', typ: 'x+jwt' }, claims, privateKey);
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      algorithms: ['EdDSA'],
      currentDate: new Date(1_767_312_100_000),
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: 'k1', typ: 'x+jwt' });
    expect(payload).toEqual(claims);
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scopes: ['crm:write'] })).toString('base64url')}.${sig}`;
    await expect(
      jwtVerify(forged, publicKey, { currentDate: new Date(1_767_312_100_000) }),
    ).rejects.toThrow('signature verification failed');
  });
});
