import { redactSecrets as redact } from '@toolbus/security';

// The forms a credential may be echoed back in: shared with the mcp-bridge (libs/security).
export { secretForms } from '@toolbus/security';

/** Longest excerpt of an upstream body an error message carries. */
export const EXCERPT_CHARS = 300;

/**
 * A part of an upstream body safe to show a model and a log: credential values redacted,
 * control characters stripped (line breaks become spaces), whitespace collapsed, at most 300
 * characters.
 * `truncated` says the body was cut before it ended: its last characters might then be the
 * beginning of a credential, so they are dropped.
 */
export function safeExcerpt(body: string, secrets: readonly string[], truncated = false): string {
  let text = redact(body, secrets);
  if (truncated) {
    const longest = Math.max(0, ...secrets.map((s) => s.length));
    if (longest > 1) text = text.slice(0, Math.max(0, text.length - longest + 1));
  }
  const flat = text
    // Line breaks and tabs are spacing; every other control character is dropped.
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  // Again: a value an upstream split with control characters is whole now.
  const clean = redact(flat, secrets);
  return clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS - 1)}…` : clean;
}

/**
 * Milliseconds a `Retry-After` header asks to wait (delay-seconds or an HTTP date), or
 * undefined when it is absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `application/json`, or any `+json` type (`application/problem+json`, `application/hal+json`). */
export function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const type = header.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^[a-z0-9.+-]+\/[a-z0-9.+-]*\+json$/.test(type);
}
