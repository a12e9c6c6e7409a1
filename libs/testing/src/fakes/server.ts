import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Script } from './script.js';
import type { FakeFault, FakeProvider, FakeTurn, RecordedRequest } from './types.js';

/** What a route handler gets for one request. */
export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  /** The id already sent in the provider's request-id header. */
  requestId: string;
  /** A `malformed` fault applies: answer 200 with a broken body instead of the real one. */
  malformed: boolean;
}

/** One endpoint of a fake provider. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Token counting is bookkeeping around a turn, so faults queued for turns skip it. */
  faultable: boolean;
  handle(request: RouteRequest): void | Promise<void>;
}

/** What differs between providers: endpoints, error envelope, request-id header. */
export interface Protocol {
  routes: Route[];
  requestIdHeader: string;
  newRequestId(): string;
  /** The provider's error body for an HTTP status (status faults, unknown routes, bad JSON). */
  errorBody(status: number, message: string | undefined, requestId: string): unknown;
}

/** Sends a JSON body with an exact content-length, as the real APIs do. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A 200 whose JSON body stops half way, so the client's JSON parser throws. */
export function sendMalformedJson(res: ServerResponse, start: string): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${start}"truncated`;
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Starts a server-sent event stream. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
}

/** Writes one server-sent event; `event` null writes a data-only event (OpenAI style). */
export function writeSse(res: ServerResponse, event: string | null, data: unknown): void {
  if (res.destroyed) return;
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  res.write(`${event === null ? '' : `event: ${event}\n`}data: ${payload}\n\n`);
}

/**
 * Runs a fake provider on 127.0.0.1 with a random port: records every request, applies queued
 * faults, and hands the rest to the protocol's routes.
 */
export async function startFakeServer(protocol: Protocol, script: Script): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const faults: FakeFault[] = [];
  // Aborted by close(): ends pending `slow` delays so nothing outlives the server.
  const closing = new AbortController();

  const server = createServer((req, res) => {
    // A client that gives up (timeout, abort) must not crash the fake with a write error.
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    void serve(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = `fake provider: ${error instanceof Error ? error.message : String(error)}`;
      const requestId = String(res.getHeader(protocol.requestIdHeader) ?? protocol.newRequestId());
      sendJson(res, 500, protocol.errorBody(500, message, requestId));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const method = req.method ?? 'GET';
    let body: unknown = undefined;
    let bodyIsJson = true;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        bodyIsJson = false;
      }
    }
    requests.push({ method, path, headers: flattenHeaders(req), body, at: Date.now() });

    const requestId = protocol.newRequestId();
    res.setHeader(protocol.requestIdHeader, requestId);

    const route = protocol.routes.find((r) => r.path === path && r.method === method);
    if (!route) {
      sendJson(res, 404, protocol.errorBody(404, `Not found: ${method} ${path}`, requestId));
      return;
    }

    const fault = route.faultable ? faults.shift() : undefined;
    let malformed = false;
    switch (fault?.kind) {
      case undefined:
        break;
      case 'status': {
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) {
          headers['retry-after'] = String(fault.retryAfterSeconds);
        }
        sendJson(
          res,
          fault.status,
          protocol.errorBody(fault.status, fault.message, requestId),
          headers,
        );
        return;
      }
      case 'slow':
        try {
          await delay(fault.delayMs, undefined, { signal: closing.signal });
        } catch {
          res.destroy();
          return;
        }
        if (res.destroyed) return;
        break;
      case 'malformed':
        malformed = true;
        break;
      case 'hang':
        // Nothing answers; close() ends the socket with every other one.
        return;
      case 'reset':
        req.socket.destroy();
        return;
    }

    if (!bodyIsJson) {
      sendJson(res, 400, protocol.errorBody(400, 'The request body is not valid JSON.', requestId));
      return;
    }
    await route.handle({ req, res, body, requestId, malformed });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(turns: FakeTurn[]): void {
      script.replace(turns);
    },
    fail(...more: FakeFault[]): void {
      faults.push(...more);
    },
    reset(): void {
      // In place: tests may hold a reference to `requests`.
      requests.length = 0;
      faults.length = 0;
      script.replace([]);
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        // Destroys hung requests too; keep-alive sockets of SDK clients would otherwise hold
        // close() open.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
