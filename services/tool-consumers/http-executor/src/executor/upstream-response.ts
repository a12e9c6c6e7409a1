import { BusinessError } from '@toolbus/tool-sdk';
import { isJsonContentType } from './response-text.js';

/** What one attempt brought back from the upstream. */
export interface UpstreamAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body was cut at the read limit. */
  truncated: boolean;
}

/** Reads a body up to `limit` bytes; `truncated` says more was there (and was not read). */
export async function readBody(
  response: Response,
  limit: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  if (!response.body) return { body: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: Buffer.concat(chunks), truncated: false };
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      void reader.cancel().catch(() => undefined);
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
}

/** The body as text, in the charset its content type names (UTF-8 otherwise). */
export function decode(body: Buffer, headers: Headers): string {
  const charset = /charset="?([^";\s]+)/i.exec(headers.get('content-type') ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return body.toString('utf8');
  }
}

/**
 * A 2xx answer as the tool's output: null when there is no body, parsed JSON for a JSON
 * content type (refused when it does not parse), the text otherwise.
 */
export function parseOutput(answer: UpstreamAnswer, operation: string, method: string): unknown {
  if (
    method === 'HEAD' ||
    answer.status === 204 ||
    answer.status === 205 ||
    answer.body.length === 0
  )
    return null;
  const contentType = answer.headers.get('content-type');
  const text = decode(answer.body, answer.headers);
  if (!isJsonContentType(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BusinessError(
      'upstream_response_invalid',
      `${operation} answered with content type ${contentType} but a body that is not valid JSON`,
    );
  }
}
