import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** An upstream's HTTP response was larger than the limit; it was cut off there. */
export class UpstreamResponseTooLargeError extends Error {
  override readonly name = 'UpstreamResponseTooLargeError';
  constructor(
    readonly server: string,
    readonly limit: number,
  ) {
    super(`upstream MCP server "${server}" sent a response larger than ${limit} bytes`);
  }
}

/**
 * `fetch` whose response bodies error with {@link UpstreamResponseTooLargeError} past `limit`
 * bytes (a declared larger Content-Length fails at once), so one upstream cannot make the
 * process buffer an unbounded answer. A cut-off JSON answer fails the request that waited for
 * it; a cut-off event stream ends, as a dropped connection would.
 */
export function limitResponses(base: FetchLike, server: string, limit: number): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    // An opaque answer (status 0) cannot be rebuilt, and has no body to bound.
    if (!response.body || response.status < 200) return response;
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limit) {
      await response.body.cancel().catch(() => undefined);
      throw new UpstreamResponseTooLargeError(server, limit);
    }
    let seen = 0;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > limit) controller.error(new UpstreamResponseTooLargeError(server, limit));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
