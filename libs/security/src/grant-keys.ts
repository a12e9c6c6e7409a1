import type { KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import { CALL_GRANT_ALG, CallGrantError } from './call-grant.js';

/**
 * Where a grant verifier finds the dispatcher's public keys: a JWKS by reference, never a key
 * in config. Several keys may be valid at once (a rotation), each found by its `kid`; a key
 * that appears in the source is used without a restart, one that disappears stops verifying.
 */
export interface GrantKeys {
  /**
   * The key for a grant's protected header. Rejects with jose's `JWKSNoMatchingKey` when no key
   * has its `kid`, and with a `CallGrantError('keys_unavailable')` when the keys cannot be had.
   */
  key(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | KeyObject>;
  /** Loads the keys now; rejects, naming the source and what is wrong, when none are usable. */
  check(): Promise<void>;
}

/** The Ed25519 public keys of a JWKS text; throws naming `source` when there are none. */
export function parseGrantJwks(text: string, source: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON (expected a JWKS: {"keys": [...]})`);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error(`${source} is not a JWKS: it has no "keys" list`);
  // A private key in a verifier's JWKS is a leaked signing key: refuse rather than use it.
  if (keys.some((k) => typeof k === 'object' && k !== null && 'd' in k))
    throw new Error(`${source} holds a private key: a verifier's JWKS must hold public keys only`);
  const usable = (keys as JWK[]).filter(
    (k) =>
      k.kty === 'OKP' &&
      k.crv === 'Ed25519' &&
      typeof k.kid === 'string' &&
      k.kid.length > 0 &&
      (k.alg === undefined || k.alg === CALL_GRANT_ALG) &&
      (k.use === undefined || k.use === 'sig'),
  );
  if (usable.length === 0)
    throw new Error(`${source} has no Ed25519 public key with a kid (kty OKP, crv Ed25519)`);
  return { keys: usable };
}

export interface FileGrantKeysOptions {
  /** How often the file is looked at for a change (a removed key stops verifying). Default 5 s. */
  checkIntervalMs?: number;
  /** A grant with an unknown `kid` looks again at once, at most this often. Default 1 s. */
  unknownKidCooldownMs?: number;
  now?: () => number;
}

/**
 * Keys from a JWKS file (a mounted Secret or ConfigMap). The file is looked at again when a
 * grant names an unknown `kid` and every `checkIntervalMs`, and re-read when it changed (its
 * inode, size or mtime: Kubernetes swaps a symlink). While a rewrite leaves it unreadable or
 * invalid, the last good keys stay in use.
 */
export function fileGrantKeys(path: string, options: FileGrantKeysOptions = {}): GrantKeys {
  const interval = options.checkIntervalMs ?? 5_000;
  const cooldown = options.unknownKidCooldownMs ?? 1_000;
  const now = options.now ?? Date.now;
  let current:
    { stamp: string; kids: Set<string>; get: ReturnType<typeof createLocalJWKSet> } | undefined;
  let problem = `${path} has not been read yet`;
  let checkedAt = -Infinity;
  let forcedAt = -Infinity;
  let inFlight: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    let stamp: string;
    try {
      const s = await stat(path);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (error) {
      problem = `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      return;
    }
    if (current?.stamp === stamp) return;
    try {
      const jwks = parseGrantJwks(await readFile(path, 'utf8'), path);
      current = {
        stamp,
        kids: new Set(jwks.keys.map((k) => k.kid!)),
        get: createLocalJWKSet(jwks),
      };
      problem = '';
    } catch (error) {
      problem = (error as Error).message;
    }
  };
  const refresh = async (force: boolean): Promise<void> => {
    const t = now();
    if (force ? t - forcedAt < cooldown : t - checkedAt < interval) return inFlight;
    if (force) forcedAt = t;
    checkedAt = t;
    inFlight ??= load().finally(() => (inFlight = undefined));
    return inFlight;
  };

  return {
    async key(header, token) {
      await refresh(false);
      if (current && header.kid && !current.kids.has(header.kid)) await refresh(true);
      if (!current)
        throw new CallGrantError('keys_unavailable', 'the call grant keys cannot be read');
      return current.get(header, token);
    },
    async check() {
      checkedAt = -Infinity;
      await refresh(false);
      if (!current) throw new Error(problem);
    },
  };
}

export interface UrlGrantKeysOptions {
  /** How long fetched keys are used before they are fetched again. Default 10 min. */
  cacheMaxAgeMs?: number;
  /** A grant with an unknown `kid` refetches at once, at most this often. Default 30 s. */
  unknownKidCooldownMs?: number;
  /** Give up a fetch after this long. Default 5 s. */
  timeoutMs?: number;
}

/**
 * Keys from a JWKS URL (the dispatcher's), cached for `cacheMaxAgeMs` and refetched early when
 * a grant names an unknown `kid`, at most once per `unknownKidCooldownMs` so a flood of forged
 * `kid`s cannot make the verifier hammer the issuer.
 */
export function urlGrantKeys(url: string, options: UrlGrantKeysOptions = {}): GrantKeys {
  const jwks = createRemoteJWKSet(new URL(url), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.unknownKidCooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
  });
  return {
    async key(header, token) {
      try {
        return await jwks(header, token);
      } catch (error) {
        if (error instanceof joseErrors.JWKSNoMatchingKey) throw error;
        // Not the caller's fault (the issuer is unreachable, or serves garbage): retryable.
        throw new CallGrantError(
          'keys_unavailable',
          'the call grant keys cannot be fetched; try again',
        );
      }
    },
    async check() {
      try {
        await jwks.reload();
      } catch (error) {
        throw new Error(`cannot fetch the JWKS at ${url}: ${(error as Error).message}`);
      }
      parseGrantJwks(JSON.stringify(jwks.jwks() ?? {}), url);
    },
  };
}
