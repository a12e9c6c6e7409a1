const REDACTED = '[redacted]';

/**
 * The forms a credential value may come back in: as sent, percent-encoded (a query string),
 * form-encoded, and JSON-escaped (an API echoing the request as JSON), with or without "\/".
 */
export function secretForms(value: string): string[] {
  if (value === '') return [];
  const forms = new Set([
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    // Some encoders (PHP's, Java's) escape "/" too.
    JSON.stringify(value).slice(1, -1).replace(/\//g, '\\/'),
  ]);
  return [...forms];
}

/** `text` with every occurrence of each secret replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  // Longest first, so a value containing another is replaced whole.
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    if (secret) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A tool's output with {@link redactSecrets} applied to every string in it, object keys
 * included: an upstream that echoes the request (its Authorization header, the query string)
 * must not hand the credential the executor sent to the model. Values that are not strings,
 * arrays or plain objects are returned as they are; the input is not modified.
 */
export function redactOutput<T>(value: T, secrets: readonly string[]): T {
  const live = secrets.filter(Boolean);
  if (live.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecrets(v, live);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
      return Object.fromEntries(
        Object.entries(v).map(([k, inner]) => [redactSecrets(k, live), walk(inner)]),
      );
    return v;
  };
  return walk(value) as T;
}
