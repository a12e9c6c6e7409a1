import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  RegistryChangeSigner,
  signatureProblem,
  type Jwks,
  type KeyLookup,
} from './index.js';

const event = { name: 'get_limit', revision: 3, served: [{ b: 1, a: [2, { d: 1, c: 2 }] }] };

/** Looks kids up in a JWKS, as the view's key cache does. */
const lookup =
  (jwks: Jwks): KeyLookup =>
  async (kid) => {
    const jwk = jwks.keys.find((k) => k.kid === kid);
    return jwk && createPublicKey({ key: jwk as never, format: 'jwk' });
  };

const ed25519Pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('catalog event signatures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signing-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('covers the canonical event: key order does not matter, any change of content does', async () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"y":1,"z":0}]},"b":1}',
    );
    const signer = await RegistryChangeSigner.generate('k1');
    const signature = await signer.sign(event);
    expect(signature).toMatch(/^[\w-]+\.\.[\w-]+$/);
    const keys = lookup(await signer.jwks());
    const reordered = { served: event.served, revision: 3, name: 'get_limit', signature };
    expect(await signatureProblem(reordered, keys)).toBeUndefined();
    expect(await signatureProblem({ ...event, revision: 4, signature }, keys)).toEqual({
      problem: 'bad_signature',
      kid: 'k1',
    });
    expect(await signatureProblem(event, keys)).toEqual({ problem: 'unsigned' });
    expect(await signatureProblem({ ...event, signature: 'abc' }, keys)).toEqual({
      problem: 'malformed_signature',
    });
    const other = await RegistryChangeSigner.generate('k2');
    expect(await signatureProblem({ ...event, signature: await other.sign(event) }, keys)).toEqual({
      problem: 'unknown_key',
      kid: 'k2',
    });
  });

  it('reads its key from a PEM or JWK file, and signs with a new one once the file changes', async () => {
    const file = join(dir, 'signing.pem');
    await writeFile(file, ed25519Pem());
    const signer = await RegistryChangeSigner.fromFile(file);
    const first = signer.kid;
    expect(first).toMatch(/^[\w-]{43}$/); // the RFC 7638 thumbprint
    const jwk = {
      ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }),
      kid: 'registry-2026',
    };
    await writeFile(file, JSON.stringify(jwk));
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    const signature = await signer.sign(event);
    expect(signer.kid).toBe('registry-2026');
    const jwks = await signer.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual(['registry-2026']);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(await signatureProblem({ ...event, signature }, lookup(jwks))).toBeUndefined();
  });

  it('serves the extra public keys beside its own (a rotation in progress)', async () => {
    const previous = await RegistryChangeSigner.generate('previous');
    const extra = join(dir, 'extra.json');
    await writeFile(extra, JSON.stringify(await previous.jwks()));
    const file = join(dir, 'current.pem');
    await writeFile(file, ed25519Pem());
    const signer = await RegistryChangeSigner.fromFile(file, extra);
    const jwks = await signer.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual([signer.kid, 'previous']);
    const old = { ...event, signature: await previous.sign(event) };
    expect(await signatureProblem(old, lookup(jwks))).toBeUndefined();
  });

  it('refuses a key file that is not an Ed25519 private key, naming the file', async () => {
    const rsa = join(dir, 'rsa.pem');
    await writeFile(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    );
    await expect(RegistryChangeSigner.fromFile(rsa)).rejects.toThrow(
      `${rsa} holds an rsa key; catalog events are signed with Ed25519`,
    );
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'not a key');
    await expect(RegistryChangeSigner.fromFile(junk)).rejects.toThrow(
      `${junk} is not a private key (PKCS#8 PEM or a JWK)`,
    );
  });
});
