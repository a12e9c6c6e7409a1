import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallGrantError,
  CallGrantSigner,
  CallGrantVerifier,
  fileGrantKeys,
  inputHash,
  urlGrantKeys,
  type GrantedCall,
  type GrantKeys,
} from './index.js';

const ISSUER = 'toolbus-orchestrator';
const ed25519 = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
const signerOf = (kid: string, key = ed25519(), now?: () => number) =>
  new CallGrantSigner({ key, kid, issuer: ISSUER, ...(now ? { now } : {}) });

const call = (extra: Partial<GrantedCall> = {}): GrantedCall => ({
  callId: 'call-1',
  idempotencyKey: 'key-00000001',
  tool: 'get_credit_limit',
  input: { customer_id: 'cus_001', options: { b: 2, a: [1, 'x'] } },
  principal: {
    subject: 'alice',
    kind: 'user',
    tenant: 'acme',
    scopes: ['crm:read'],
    displayName: 'Alice',
  },
  tenant: 'acme',
  region: 'eu',
  deadline: new Date(Date.now() + 60_000).toISOString(),
  ...extra,
});

/** The refusal reason of a verification, or a test failure naming what it got instead. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CallGrantError) return `${error.reason}: ${error.message}`;
    throw error;
  }
  throw new Error('expected the grant to be refused');
}

describe('inputHash', () => {
  it('is the same whatever the key order and spacing, and different for any change', () => {
    const a = { z: 1, a: { y: [1, 2, { c: true, b: null }], x: 'é"\n' } };
    const b = JSON.parse(
      '{ "a": { "x": "é\\"\\n", "y": [1, 2, {"b": null, "c": true}] }, "z": 1.0 }',
    );
    expect(inputHash(b)).toBe(inputHash(a));
    expect(inputHash(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(inputHash({ ...a, z: 2 })).not.toBe(inputHash(a));
    expect(inputHash({ b: undefined, a: 1 })).toBe(inputHash({ a: 1 }));
  });

  it('refuses inputs JSON cannot carry, naming where', () => {
    expect(() => inputHash({ n: Number.NaN })).toThrow('/n: NaN is not JSON');
  });
});

describe('CallGrantSigner', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grant-signer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a key that is not an Ed25519 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => signerOf('k1', rsa)).toThrow('must be an Ed25519 private key');
    expect(() => signerOf('k1', generateKeyPairSync('ed25519').publicKey)).toThrow(
      'must be an Ed25519 private key',
    );
  });

  it('reads its key by reference from a PEM or a JWK file, naming a file it cannot use', async () => {
    const key = ed25519();
    const pem = join(dir, 'key.pem');
    const jwkFile = join(dir, 'key.jwk');
    const bad = join(dir, 'bad.pem');
    await writeFile(pem, key.export({ format: 'pem', type: 'pkcs8' }));
    await writeFile(jwkFile, JSON.stringify({ ...key.export({ format: 'jwk' }), kid: 'from-jwk' }));
    await writeFile(bad, 'not a key');
    expect(
      CallGrantSigner.fromFile({ keyFile: pem, kid: 'k1', issuer: ISSUER }).publicJwk(),
    ).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'k1', alg: 'EdDSA', use: 'sig' });
    expect(CallGrantSigner.fromFile({ keyFile: jwkFile, issuer: ISSUER }).publicJwk().kid).toBe(
      'from-jwk',
    );
    expect(() => CallGrantSigner.fromFile({ keyFile: pem, issuer: ISSUER })).toThrow(
      `give the kid of ${pem}`,
    );
    expect(() => CallGrantSigner.fromFile({ keyFile: bad, kid: 'k', issuer: ISSUER })).toThrow(
      `${bad} is not a PEM or JWK private key`,
    );
    expect(
      CallGrantSigner.fromFile({ keyFile: pem, kid: 'k1', issuer: ISSUER }).publicJwk(),
    ).not.toHaveProperty('d');
  });

  it('expires a grant at the deadline, or after its longest life when the deadline is later', async () => {
    const now = Date.parse('2030-01-01T00:00:00.000Z');
    const signer = new CallGrantSigner({
      key: ed25519(),
      kid: 'k',
      issuer: ISSUER,
      now: () => now,
      maxTtlSeconds: 60,
    });
    const claims = async (deadlineMs: number) =>
      JSON.parse(
        Buffer.from(
          (
            await signer.sign(call({ deadline: new Date(now + deadlineMs).toISOString() }), 'crm')
          ).split('.')[1]!,
          'base64url',
        ).toString(),
      ) as Record<string, unknown>;
    expect(await claims(10_500)).toMatchObject({ iat: now / 1000, exp: now / 1000 + 10 });
    expect(await claims(3_600_000)).toMatchObject({ exp: now / 1000 + 60 });
    expect(await claims(0)).toMatchObject({
      aud: 'crm',
      iss: ISSUER,
      sub: 'alice',
      kind: 'user',
      name: 'Alice',
      tenant: 'acme',
      scopes: ['crm:read'],
      region: 'eu',
      tool: 'get_credit_limit',
      idk: 'key-00000001',
      cid: 'call-1',
      ih: inputHash(call().input),
    });
  });
});

/** A key source under test, and how to change the keys it serves. */
interface KeySourceFixture {
  keys: GrantKeys;
  publish(jwks: JWK[]): Promise<void>;
  close(): Promise<void>;
}

async function fileFixture(): Promise<KeySourceFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'grant-jwks-'));
  const path = join(dir, 'jwks.json');
  return {
    keys: fileGrantKeys(path, { checkIntervalMs: 60_000, unknownKidCooldownMs: 0 }),
    publish: (keys) => writeFile(path, JSON.stringify({ keys })),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function urlFixture(): Promise<KeySourceFixture & { url: string; fetches(): number }> {
  let body = '{"keys":[]}';
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}/jwks.json`;
  return {
    url,
    keys: urlGrantKeys(url, { unknownKidCooldownMs: 0 }),
    publish: async (keys) => {
      body = JSON.stringify({ keys });
    },
    close: () => new Promise((r) => server.close(() => r())),
    fetches: () => fetches,
  };
}

// One contract, both key sources: whatever the source, the verifier refuses the same things.
describe.each([
  ['a JWKS file', fileFixture],
  ['a JWKS URL', urlFixture],
])('CallGrantVerifier with keys from %s', (_name, makeFixture) => {
  let fixture: KeySourceFixture;
  let verifier: CallGrantVerifier;
  const firstKey = ed25519();
  const first = signerOf('key-2030-01', firstKey);
  const second = signerOf('key-2030-02');

  beforeAll(async () => {
    fixture = await makeFixture();
    await fixture.publish([first.publicJwk()]);
    verifier = new CallGrantVerifier({ keys: fixture.keys, issuer: ISSUER, audience: 'crm' });
    await verifier.check();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const expected = (c = call()) => ({
    tool: c.tool,
    idempotencyKey: c.idempotencyKey,
    input: c.input,
  });

  it('accepts a grant for this call and gives its principal, tenant, scopes and region', async () => {
    const c = call();
    // Another serialisation of the same input still matches.
    const reordered = JSON.parse(
      JSON.stringify({ options: { a: [1, 'x'], b: 2 }, customer_id: 'cus_001' }),
    );
    expect(
      await verifier.verify(await first.sign(c, 'crm'), { ...expected(c), input: reordered }),
    ).toMatchObject({
      tool: 'get_credit_limit',
      audience: 'crm',
      principal: {
        subject: 'alice',
        kind: 'user',
        tenant: 'acme',
        scopes: ['crm:read'],
        displayName: 'Alice',
      },
      tenant: 'acme',
      scopes: ['crm:read'],
      region: 'eu',
      idempotencyKey: 'key-00000001',
      callId: 'call-1',
    });
  });

  it('refuses a missing, malformed or oversized grant', async () => {
    expect(await refusal(verifier.verify(undefined, expected()))).toMatch(/^missing: /);
    expect(await refusal(verifier.verify('', expected()))).toMatch(/^missing: /);
    expect(await refusal(verifier.verify('not.a.grant', expected()))).toMatch(/^malformed: /);
    expect(await refusal(verifier.verify('x'.repeat(9_000), expected()))).toMatch(
      /^malformed: .*too long/,
    );
  });

  it('refuses a grant signed by another key, even one claiming a trusted kid', async () => {
    const forger = signerOf('key-2030-01');
    expect(await refusal(verifier.verify(await forger.sign(call(), 'crm'), expected()))).toBe(
      'signature: the call grant is not signed by a key this service trusts',
    );
    expect(
      await refusal(verifier.verify(await signerOf('unknown-kid').sign(call(), 'crm'), expected())),
    ).toMatch(/^signature: /);
  });

  it('pins EdDSA and the grant type: alg confusion and other JWTs of the same key are refused', async () => {
    const hs = await new SignJWT({ tool: 'get_credit_limit' })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-2030-01', typ: 'toolbus-call-grant+jwt' })
      .setIssuer(ISSUER)
      .setAudience('crm')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(JSON.stringify(first.publicJwk())));
    expect(await refusal(verifier.verify(hs, expected()))).toBe(
      'malformed: call grants are signed with EdDSA only',
    );
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'key-2030-01' })).toString('base64url')}.${hs.split('.')[1]}.`;
    expect(await refusal(verifier.verify(none, expected()))).toMatch(/^malformed: /);
    const plainJwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'key-2030-01' })
      .setIssuer(ISSUER)
      .setAudience('crm')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(firstKey);
    expect(await refusal(verifier.verify(plainJwt, expected()))).toMatch(
      /^malformed: the call grant's "typ"/,
    );
  });

  it('refuses an expired grant, beyond the clock tolerance', async () => {
    const past = call({ deadline: new Date(Date.now() - 30_000).toISOString() });
    expect(await refusal(verifier.verify(await first.sign(past, 'crm'), expected(past)))).toMatch(
      /^expired: the call grant expired at \d{4}-/,
    );
    // A deadline a second ago is within the skew a dispatcher's clock may have.
    const skewed = call({ deadline: new Date(Date.now() - 1_000).toISOString() });
    await expect(
      verifier.verify(await first.sign(skewed, 'crm'), expected(skewed)),
    ).resolves.toBeTruthy();
  });

  it('refuses a grant for another service, another issuer, another tool, key or input', async () => {
    const c = call();
    expect(await refusal(verifier.verify(await first.sign(c, 'erp'), expected(c)))).toBe(
      'audience: the call grant is for another service, not "crm"',
    );
    const otherIssuer = new CallGrantSigner({
      key: firstKey,
      kid: 'key-2030-01',
      issuer: 'someone-else',
    });
    expect(await refusal(verifier.verify(await otherIssuer.sign(c, 'crm'), expected(c)))).toMatch(
      /^issuer: /,
    );
    const grant = await first.sign(c, 'crm');
    expect(
      await refusal(verifier.verify(grant, { ...expected(c), tool: 'update_credit_limit' })),
    ).toBe('tool: the call grant is for tool "get_credit_limit", not "update_credit_limit"');
    expect(
      await refusal(verifier.verify(grant, { ...expected(c), idempotencyKey: 'key-00000002' })),
    ).toMatch(/^idempotency_key: /);
    expect(
      await refusal(verifier.verify(grant, { ...expected(c), input: { customer_id: 'cus_002' } })),
    ).toBe('input: the call grant was signed for another input');
  });

  it('takes a rotated key without a restart, keeps both valid during the rotation, then drops the old one', async () => {
    const c = call();
    await expect(verifier.verify(await second.sign(c, 'crm'), expected(c))).rejects.toThrow(
      CallGrantError,
    );
    await fixture.publish([first.publicJwk(), second.publicJwk()]);
    await expect(verifier.verify(await second.sign(c, 'crm'), expected(c))).resolves.toBeTruthy();
    await expect(verifier.verify(await first.sign(c, 'crm'), expected(c))).resolves.toBeTruthy();
    // The old key retired; the next look at the source (periodic for a file, the cache's age
    // for a URL) drops it. check() looks now.
    await fixture.publish([second.publicJwk()]);
    await fixture.keys.check();
    expect(await refusal(verifier.verify(await first.sign(c, 'crm'), expected(c)))).toMatch(
      /^signature: /,
    );
    await expect(verifier.verify(await second.sign(c, 'crm'), expected(c))).resolves.toBeTruthy();
  });
});

describe('grant key sources', () => {
  it('a JWKS file that is missing, not a JWKS, or holds a private key stops the start, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grant-jwks-'));
    try {
      const path = join(dir, 'jwks.json');
      await expect(fileGrantKeys(path).check()).rejects.toThrow(`cannot read ${path}: ENOENT`);
      await writeFile(path, '{"keys": "no"}');
      await expect(fileGrantKeys(path).check()).rejects.toThrow(`${path} is not a JWKS`);
      await writeFile(
        path,
        JSON.stringify({ keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', kid: 'r' }] }),
      );
      await expect(fileGrantKeys(path).check()).rejects.toThrow(
        'has no Ed25519 public key with a kid',
      );
      await writeFile(
        path,
        JSON.stringify({ keys: [{ ...ed25519().export({ format: 'jwk' }), kid: 'p' }] }),
      );
      await expect(fileGrantKeys(path).check()).rejects.toThrow('holds a private key');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the last good keys while a rewrite leaves the file invalid', async () => {
    const fixture = await fileFixture();
    try {
      const signer = signerOf('k-good');
      await fixture.publish([signer.publicJwk()]);
      const verifier = new CallGrantVerifier({
        keys: fixture.keys,
        issuer: ISSUER,
        audience: 'crm',
      });
      await verifier.check();
      const c = call();
      await fixture.publish([]); // half-written: no usable key
      await expect(fixture.keys.check()).resolves.toBeUndefined();
      await expect(
        verifier.verify(await signer.sign(c, 'crm'), {
          tool: c.tool,
          idempotencyKey: c.idempotencyKey,
          input: c.input,
        }),
      ).resolves.toBeTruthy();
    } finally {
      await fixture.close();
    }
  });

  it('a JWKS URL refetches on an unknown kid at most once per cooldown, and an unreachable one is retryable', async () => {
    const fixture = await urlFixture();
    try {
      const known = signerOf('k-known');
      await fixture.publish([known.publicJwk()]);
      const slow = new CallGrantVerifier({
        keys: urlGrantKeys(fixture.url, { unknownKidCooldownMs: 60_000 }),
        issuer: ISSUER,
        audience: 'crm',
      });
      await slow.check();
      const before = fixture.fetches();
      const c = call();
      const expectedCall = { tool: c.tool, idempotencyKey: c.idempotencyKey, input: c.input };
      for (let i = 0; i < 5; i++)
        expect(
          await refusal(slow.verify(await signerOf(`forged-${i}`).sign(c, 'crm'), expectedCall)),
        ).toMatch(/^signature: /);
      expect(fixture.fetches() - before).toBe(0);
      await fixture.close();
      const down = new CallGrantVerifier({
        keys: urlGrantKeys(fixture.url),
        issuer: ISSUER,
        audience: 'crm',
      });
      expect(await refusal(down.verify(await known.sign(c, 'crm'), expectedCall))).toBe(
        'keys_unavailable: the call grant keys cannot be fetched; try again',
      );
    } finally {
      await fixture.close().catch(() => undefined);
    }
  });
});
