/**
 * JSON with every object's keys sorted (arrays keep their order), so equal arguments give equal
 * text however they were written: the key of the result cache, and what argument hashes are
 * computed over. Values JSON cannot hold (undefined, functions) are dropped as JSON.stringify
 * drops them; non-finite numbers become null.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value)) ?? 'null';
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sorted(v)));
  if (value !== null && typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
      return sorted((value as { toJSON(): unknown }).toJSON());
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== 'function') out[key] = sorted(v);
    }
    return out;
  }
  return value;
}
