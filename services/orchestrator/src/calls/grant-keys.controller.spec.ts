import { CallGrantSigner } from '@toolbus/security';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CallGrantKeys } from './grant-keys.controller.js';

function signer(kid: string): CallGrantSigner {
  return new CallGrantSigner({
    key: generateKeyPairSync('ed25519').privateKey,
    kid,
    issuer: 'toolbus-orchestrator',
  });
}

describe('CallGrantKeys', () => {
  it('serves the signing key first, then the extra keys but a copy of the signing one', async () => {
    const current = signer('k2');
    const next = signer('k3').publicJwk();
    const file = join(mkdtempSync(join(tmpdir(), 'grant-keys-')), 'next.json');
    writeFileSync(file, JSON.stringify({ keys: [current.publicJwk(), next] }));
    const { keys } = await new CallGrantKeys(current, file).jwks();
    expect(keys.map((k) => k.kid)).toEqual(['k2', 'k3']);
    expect(keys.every((k) => !('d' in k))).toBe(true);
  });

  it('re-reads the extra keys when the mounted file changes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'grant-keys-')), 'next.json');
    writeFileSync(file, JSON.stringify({ keys: [signer('k5').publicJwk()] }));
    const keys = new CallGrantKeys(signer('k1'), file);
    expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual(['k1', 'k5']);
    writeFileSync(file, JSON.stringify({ keys: [signer('k9').publicJwk()] }));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual(['k1', 'k9']);
  });

  it('refuses to start on an extra-keys file that is not a JWKS, naming the file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'grant-keys-')), 'next.json');
    writeFileSync(file, 'not json');
    await expect(new CallGrantKeys(signer('k1'), file).check()).rejects.toThrow(file);
  });
});
