import type { FastifyReply, FastifyRequest } from 'fastify';
import { sha256 } from './canonical.js';

/**
 * Sends JSON with a strong ETag of its bytes; answers 304 when the caller's If-None-Match
 * already names it, so pollers and caches pay for a body only when it changed.
 */
export async function sendWithEtag(
  request: FastifyRequest,
  reply: FastifyReply,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<void> {
  const json = JSON.stringify(body);
  const etag = `"${sha256(json).slice(0, 32)}"`;
  reply.headers({ ...headers, etag, 'cache-control': 'private, no-cache' });
  const match = request.headers['if-none-match'];
  const tags = (Array.isArray(match) ? match.join(',') : (match ?? ''))
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes(etag) || tags.includes('*')) {
    await reply.status(304).send();
    return;
  }
  await reply.status(200).header('content-type', 'application/json; charset=utf-8').send(json);
}

/** Longest text a header's quoted-string carries before it is cut (with an ellipsis). */
const MAX_QUOTED = 512;

/**
 * `text` as an RFC 9110 quoted-string of printable ASCII: line breaks and other controls
 * become spaces, other characters outside ASCII `?`, `"` and `\` are escaped, and a long text
 * is cut. The result is always a valid header value.
 */
export function quotedString(text: string): string {
  const ascii = Array.from(text, (c) => {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return ' ';
    return code > 0x7e ? '?' : c;
  })
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  const cut = ascii.length > MAX_QUOTED ? `${ascii.slice(0, MAX_QUOTED - 3)}...` : ascii;
  return `"${cut.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
