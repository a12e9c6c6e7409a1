import { createHash } from 'node:crypto';

/**
 * JSON text that is the same for the same value wherever it is produced: object keys sorted by
 * UTF-16 code units, no whitespace, numbers and strings as `JSON.stringify` writes them (the
 * JSON Canonicalization Scheme, RFC 8785, for the JSON a message can carry). The call grant's
 * signer and every verifier hash this, so a message re-serialised with other key order or
 * spacing still matches, and any other change does not. Members whose value is `undefined`
 * are left out, as `JSON.stringify` does; values JSON cannot carry throw a TypeError.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON form`);
  }
}

/** SHA-256 of {@link canonicalJson} of a tool input, base64url without padding (the grant's `ih`). */
export function inputHash(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('base64url');
}
