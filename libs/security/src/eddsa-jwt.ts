import { sign, type KeyObject } from 'node:crypto';

/**
 * A compact JWS of `payload` signed with an Ed25519 key (`alg: EdDSA`), synchronously with
 * node:crypto. jose signs through WebCrypto, whose every call is a job on the thread pool: on
 * the path of each tool call (a grant per attempt) that was a quarter of a millisecond; this
 * takes a few microseconds. Ed25519 is deterministic, so the token is byte for byte what jose's
 * `SignJWT` makes of the same header and claims (a test holds it to that); verification stays
 * with jose, which checks every claim.
 */
export function signEdDsaJwt(
  header: { kid: string; typ: string },
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${encode({ alg: 'EdDSA', ...header })}.${encode(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
