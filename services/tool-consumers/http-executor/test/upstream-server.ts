import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query as sent (still percent-encoded). */
  target: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

/** Answers a request; `n` counts the requests seen so far, this one included (1-based). */
export type UpstreamHandler = (request: SeenRequest, response: ServerResponse, n: number) => void;

/** A REST service the executor calls: a real HTTP server on 127.0.0.1 that records requests. */
export interface Upstream {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: SeenRequest[];
  /** Sets how the next requests are answered and forgets the requests seen so far. */
  reset(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

/** Answers with a JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Answers 200 with the request as the upstream saw it. */
export const echo: UpstreamHandler = (request, response) =>
  sendJson(response, 200, {
    method: request.method,
    target: request.target,
    headers: request.headers,
    body: request.body,
  });

export async function startUpstream(): Promise<Upstream> {
  let handler: UpstreamHandler = echo;
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      const parsed = new URL(target, 'http://upstream.test');
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        target,
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      requests.push(seen);
      handler(seen, res, requests.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reset: (next) => {
      handler = next;
      requests.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
