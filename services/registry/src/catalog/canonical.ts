import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialize (and hash) the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** SHA-256 of the canonical JSON of `value`. */
export function hashOf(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * A text key that sorts like the semantic version: numbers zero-padded, and a release after
 * its pre-releases (`~` sorts after `-`).
 */
export function versionKey(version: string): string {
  const [core = '', ...pre] = version.split('-');
  const nums = core.split('.').map((n) => n.padStart(10, '0'));
  return `${nums.join('.')}${pre.length ? `-${pre.join('-')}` : '~'}`;
}

/** The next minor version after `version` (1.4.2 → 1.5.0); imports number their drafts so. */
export function nextMinor(version: string): string {
  const [major = '0', minor = '0'] = version.split('-')[0]!.split('.');
  return `${Number(major)}.${Number(minor) + 1}.0`;
}
