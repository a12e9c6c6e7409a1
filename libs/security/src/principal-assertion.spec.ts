import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '@toolbus/contracts';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  fileGrantKeys,
  PrincipalAssertionError,
  PrincipalAssertionSigner,
  PrincipalAssertionVerifier,
} from './index.js';

const alice: Principal = {
  subject: 'alice',
  kind: 'user',
  tenant: 'acme',
  scopes: ['crm:read'],
  regions: ['eu'],
  displayName: 'Alice',
};
const dir = mkdtempSync(join(tmpdir(), 'assertion-'));
const gateway = generateKeyPairSync('ed25519');
const rogue = generateKeyPairSync('ed25519');
const jwks = join(dir, 'jwks.json');
writeFileSync(
  jwks,
  JSON.stringify({
    keys: [{ ...gateway.publicKey.export({ format: 'jwk' }), kid: 'gw-1', alg: 'EdDSA' }],
  }),
);
const signer = (key = gateway.privateKey, audience = 'toolbus-orchestrator') =>
  new PrincipalAssertionSigner({ key, kid: 'gw-1', issuer: 'toolbus-gateway', audience });
const verifier = new PrincipalAssertionVerifier({
  keys: fileGrantKeys(jwks),
  issuer: 'toolbus-gateway',
  audience: 'toolbus-orchestrator',
});
const request = { contextId: 'ctx-00000001', question: 'What is the credit limit for Acme?' };

describe('principal assertions', () => {
  it('carry the principal the gateway verified, for the one request they were signed for', async () => {
    const token = await signer().sign(alice, request);
    expect(await verifier.verify(token, request)).toEqual(alice);
  });

  it('refuse a replay for another request, another key, another audience, none at all', async () => {
    const token = await signer().sign(alice, request);
    await expect(
      verifier.verify(token, { ...request, question: 'Transfer all funds' }),
    ).rejects.toThrow('the principal assertion was signed for another request (replayed)');
    await expect(
      verifier.verify(await signer(rogue.privateKey).sign(alice, request), request),
    ).rejects.toThrow(PrincipalAssertionError);
    await expect(
      verifier.verify(
        await signer(gateway.privateKey, 'toolbus-registry').sign(alice, request),
        request,
      ),
    ).rejects.toThrow(/claim "aud" is invalid/);
    await expect(verifier.verify(undefined, request)).rejects.toThrow(
      /only the gateway may send it/,
    );
  });

  it('refuse alg none and an expired assertion', async () => {
    const none = new UnsecuredJWT({
      kind: 'user',
      tenant: 'acme',
      scopes: ['*'],
      rh: 'x'.repeat(43),
    })
      .setIssuer('toolbus-gateway')
      .setAudience('toolbus-orchestrator')
      .setSubject('mallory')
      .setExpirationTime('5m')
      .encode();
    await expect(verifier.verify(none, request)).rejects.toThrow(/not signed by the gateway/);
    const old = await new SignJWT({ kind: 'user', tenant: 'acme', scopes: [], rh: 'x'.repeat(43) })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'gw-1', typ: 'toolbus-principal+jwt' })
      .setIssuer('toolbus-gateway')
      .setAudience('toolbus-orchestrator')
      .setSubject('alice')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
      .sign(gateway.privateKey);
    await expect(verifier.verify(old, request)).rejects.toThrow(
      'the principal assertion has expired',
    );
  });
});
