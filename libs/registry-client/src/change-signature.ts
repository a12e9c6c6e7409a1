import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { calculateJwkThumbprint, CompactSign, compactVerify, type JWK } from 'jose';

/** The algorithms a catalog event may be signed with (Ed25519, as JOSE names it). */
const ALGORITHMS = ['EdDSA', 'Ed25519'];

/** A JSON Web Key Set of public keys, as `/.well-known/jwks.json` serves it. */
export interface Jwks {
  keys: JWK[];
}

/**
 * JSON with object keys sorted by UTF-16 code units and no whitespace: RFC 8785 (JCS) for the
 * values JSON carries, so any language reproduces the bytes a signature covers.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .filter((k) => object[k] !== undefined)
        .map((k) => [k, sortKeys(object[k])]),
    );
  }
  return value;
}

/** What a change event's signature covers: the whole event but `signature`, canonical. */
export function signingInput(event: Record<string, unknown>): Uint8Array {
  const { signature: _signature, ...signed } = event;
  return new TextEncoder().encode(canonicalJson(signed));
}

/** A private Ed25519 key and its key id. */
interface SigningKey {
  key: KeyObject;
  kid: string;
  publicJwk: JWK;
}

async function signingKeyOf(text: string, where: string): Promise<SigningKey> {
  let key: KeyObject;
  let kid: string | undefined;
  try {
    if (text.trimStart().startsWith('{')) {
      const jwk = JSON.parse(text) as JsonWebKey & { kid?: unknown };
      kid = typeof jwk.kid === 'string' && jwk.kid ? jwk.kid : undefined;
      key = createPrivateKey({ key: jwk, format: 'jwk' });
    } else key = createPrivateKey(text);
  } catch (error) {
    throw new Error(
      `${where} is not a private key (PKCS#8 PEM or a JWK): ${(error as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `${where} holds an ${key.asymmetricKeyType ?? 'unknown'} key; catalog events are signed with Ed25519`,
    );
  const { kty, crv, x } = createPublicKey(key).export({ format: 'jwk' });
  const bare = { kty, crv, x } as JWK;
  kid ??= await calculateJwkThumbprint(bare);
  return { key, kid, publicJwk: { ...bare, kid, alg: 'EdDSA', use: 'sig' } };
}

/**
 * Signs the registry's change events with an Ed25519 key, and names its public keys. The key
 * comes by reference, a mounted file (PKCS#8 PEM, or a JWK whose `kid` is used; otherwise the
 * kid is the RFC 7638 thumbprint), and is read again when the file changes, so rotating the
 * Secret needs no restart. Extra public keys (the next key before it signs, the previous one
 * after) are served beside it, so every replica's events verify during a rotation.
 */
export class RegistryChangeSigner {
  private current: SigningKey;
  private mtimeMs = 0;
  private extra: JWK[] = [];
  private extraMtimeMs = 0;

  private constructor(
    current: SigningKey,
    private readonly files: { key?: string; extraKeys?: string } = {},
  ) {
    this.current = current;
  }

  /** Reads the key (and the extra public keys) from their files; throws naming a bad one. */
  static async fromFile(keyFile: string, extraKeysFile?: string): Promise<RegistryChangeSigner> {
    const signer = new RegistryChangeSigner(await readKey(keyFile), {
      key: keyFile,
      extraKeys: extraKeysFile,
    });
    signer.mtimeMs = (await stat(keyFile)).mtimeMs;
    await signer.refresh();
    return signer;
  }

  /** A key made now, held in memory only: one process (the embedded mode, tests). */
  static async generate(kid?: string): Promise<RegistryChangeSigner> {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = await signingKeyOf(pem, 'the generated key');
    return new RegistryChangeSigner(
      kid ? { ...key, kid, publicJwk: { ...key.publicJwk, kid } } : key,
    );
  }

  /** The key id events are signed with now. */
  get kid(): string {
    return this.current.kid;
  }

  /** The detached JWS (`<header>..<signature>`) of `event`, without its `signature` field. */
  async sign(event: Record<string, unknown>): Promise<string> {
    await this.refresh();
    const jws = await new CompactSign(signingInput(event))
      .setProtectedHeader({ alg: 'EdDSA', kid: this.current.kid })
      .sign(this.current.key);
    const [header, , signature] = jws.split('.');
    return `${header}..${signature}`;
  }

  /** The public keys readers verify with: the signing key's first, then the extra ones. */
  async jwks(): Promise<Jwks> {
    await this.refresh();
    const others = this.extra.filter((k) => k.kid !== this.current.kid);
    return { keys: [this.current.publicJwk, ...others] };
  }

  private async refresh(): Promise<void> {
    if (this.files.key) {
      const mtimeMs = (await stat(this.files.key)).mtimeMs;
      if (mtimeMs !== this.mtimeMs) {
        this.current = await readKey(this.files.key);
        this.mtimeMs = mtimeMs;
      }
    }
    if (this.files.extraKeys) {
      const mtimeMs = (await stat(this.files.extraKeys)).mtimeMs;
      if (mtimeMs !== this.extraMtimeMs) {
        this.extra = parseJwks(
          await readFile(this.files.extraKeys, 'utf8'),
          this.files.extraKeys,
        ).keys;
        this.extraMtimeMs = mtimeMs;
      }
    }
  }
}

async function readKey(file: string): Promise<SigningKey> {
  return signingKeyOf(await readFile(file, 'utf8'), file);
}

/** A JWKS document's Ed25519 public keys with a kid; throws when it is not a JWKS at all. */
export function parseJwks(text: string, where: string): Jwks {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not JSON (a JWKS: {"keys": [...]})`);
  }
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error(`${where} is not a JWKS: it has no "keys" list`);
  return {
    keys: keys.filter(
      (k): k is JWK =>
        typeof k === 'object' &&
        k !== null &&
        (k as JWK).kty === 'OKP' &&
        (k as JWK).crv === 'Ed25519' &&
        typeof (k as JWK).kid === 'string' &&
        typeof (k as JWK).x === 'string' &&
        (k as JWK).d === undefined,
    ),
  };
}

/** Why an event's signature does not hold. */
export type SignatureProblem = 'unsigned' | 'malformed_signature' | 'unknown_key' | 'bad_signature';

/** Finds the public key of a kid (a cached JWKS), or undefined when it names none. */
export type KeyLookup = (kid: string) => Promise<KeyObject | undefined>;

/**
 * Checks the detached JWS in `event.signature` over the rest of the event. Returns undefined
 * when it holds, else why not (with the kid it named, when it named one).
 */
export async function signatureProblem(
  event: Record<string, unknown>,
  keys: KeyLookup,
): Promise<{ problem: SignatureProblem; kid?: string } | undefined> {
  const signature = event['signature'];
  if (signature === undefined) return { problem: 'unsigned' };
  const parts = typeof signature === 'string' ? signature.split('.') : [];
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2])
    return { problem: 'malformed_signature' };
  let header: { alg?: unknown; kid?: unknown };
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
  } catch {
    return { problem: 'malformed_signature' };
  }
  if (typeof header.kid !== 'string' || !ALGORITHMS.includes(String(header.alg)))
    return { problem: 'malformed_signature' };
  const kid = header.kid;
  const key = await keys(kid);
  if (!key) return { problem: 'unknown_key', kid };
  const payload = Buffer.from(signingInput(event)).toString('base64url');
  try {
    await compactVerify(`${parts[0]}.${payload}.${parts[2]}`, key, { algorithms: ALGORITHMS });
    return undefined;
  } catch {
    return { problem: 'bad_signature', kid };
  }
}
