/**
 * The one canonical JSON of the platform: object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as `JSON.stringify` writes them. For the values JSON carries
 * this is the JSON Canonicalization Scheme (RFC 8785), so any language reproduces the bytes.
 * What is hashed or signed goes through it: call grants' input hashes, principal assertions'
 * request hashes, the result cache's keys, the audit ledger's hash chain.
 *
 * As in `JSON.stringify`, object members whose value is `undefined` are left out and `undefined`
 * array elements are written as `null`. Anything else JSON cannot carry faithfully (NaN and the
 * infinities, bigints, functions, symbols, Dates, Maps and other class instances) is refused
 * with a TypeError naming where it is, as a JSON pointer: a hash over a value that does not
 * survive a round trip through JSON could never be recomputed by whoever receives it.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new TypeError('/: undefined is not a JSON value');
  return write(value, '');
}

function write(value: unknown, at: string): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean')
    return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${at || '/'}: ${value} is not JSON`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((v, i) => (v === undefined ? 'null' : write(v, `${at}/${i}`))).join(',')}]`;
  const proto: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (typeof value === 'object' && (proto === Object.prototype || proto === null)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v, `${at}/${pointerToken(k)}`)}`).join(',')}}`;
  }
  const what =
    typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value;
  throw new TypeError(`${at || '/'}: a ${what} is not a JSON value`);
}

/** RFC 6901: `~` and `/` in a member name are escaped in a pointer. */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
