import { createHash } from 'node:crypto';
import { canonicalJson } from '@toolbus/contracts';

/**
 * SHA-256 of the canonical JSON of a tool input, base64url without padding: the call grant's
 * `ih`, which the signer and every verifier compute alike, so an input re-serialised with other
 * key order or spacing still matches and any other change does not.
 */
export function inputHash(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('base64url');
}
