import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { diff, record } from '../test/records.js';
import {
  RegistryClient,
  RegistryRefusedError,
  RegistryUnreachableError,
  UnexpectedResponseError,
} from './registry-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Answer = (res: ServerResponse) => void;

/** A stand-in that records each request's shape and answers what the test queued. */
let server: Server;
let base: string;
let seen: Seen[] = [];
let answers: Answer[] = [];

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const answer = answers.shift();
      if (answer) answer(res);
      // No answer queued: keep the request hanging (the timeout case).
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  answers = [];
});

const client = (options: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}) =>
  new RegistryClient({ baseUrl: base, token: 'tok-123', timeoutMs: 5_000, ...options });

describe('RegistryClient requests', () => {
  it('searches with repeated tags, comma-joined statuses and the bearer token', async () => {
    answers.push(json(200, { items: [record()], nextCursor: 'abc' }));
    const page = await client().searchTools({
      q: 'credit limit',
      tags: ['crm', 'finance'],
      owner: 'team-crm',
      region: 'eu',
      status: ['draft', 'approved'],
      limit: 5,
      cursor: 'c1',
    });
    expect(page.data.nextCursor).toBe('abc');
    expect(seen[0]!.method).toBe('GET');
    const url = new URL(seen[0]!.url, base);
    expect(url.pathname).toBe('/v1/tools');
    expect(url.searchParams.get('q')).toBe('credit limit');
    expect(url.searchParams.getAll('tag')).toEqual(['crm', 'finance']);
    expect(url.searchParams.get('status')).toBe('draft,approved');
    expect(url.searchParams.get('limit')).toBe('5');
    expect(url.searchParams.get('cursor')).toBe('c1');
    expect(seen[0]!.headers['authorization']).toBe('Bearer tok-123');
    expect(seen[0]!.headers['accept']).toContain('application/problem+json');
  });

  it('sends no query string and no authorization when there is nothing to send', async () => {
    answers.push(json(200, { items: [], nextCursor: null }));
    await client({ token: undefined }).searchTools({});
    expect(seen[0]!.url).toBe('/v1/tools');
    expect(seen[0]!.headers['authorization']).toBeUndefined();
  });

  it('keeps a path prefix of the registry URL (a registry behind a proxy)', async () => {
    answers.push(json(200, record()));
    await client({ baseUrl: `${base}/registry/` }).getTool('get_customer');
    expect(seen[0]!.url).toBe('/registry/v1/tools/get_customer');
  });

  it('reads name@version from the version resource, so reviewers see drafts too', async () => {
    answers.push(json(200, record({ status: 'draft', approvedBy: null, approvedAt: null })));
    const answer = await client().getTool('get_customer', '1.0.0');
    expect(seen[0]!.url).toBe('/v1/tools/get_customer/versions/1.0.0');
    expect(answer.data.status).toBe('draft');
  });

  it('posts the import with the document as text and a JSON content type', async () => {
    answers.push(json(200, diff()));
    const yaml = 'openapi: 3.0.3\ninfo: {title: x, version: "1"}\npaths: {}\n';
    await client().importOpenApi({
      source: 'crm',
      owner: 'team-crm',
      region: 'eu',
      document: yaml,
      tags: ['crm'],
      timeoutMs: 5000,
      dryRun: true,
    });
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/v1/imports/openapi');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]!.body)).toEqual({
      source: 'crm',
      owner: 'team-crm',
      region: 'eu',
      document: yaml,
      tags: ['crm'],
      timeoutMs: 5000,
      dryRun: true,
    });
  });

  it('posts lifecycle actions with the reason, or an empty object without one', async () => {
    answers.push(json(200, record({ status: 'deprecated', statusReason: 'old' })));
    answers.push(json(200, record()));
    await client().lifecycle('get_customer', '1.0.0', 'deprecate', 'old');
    await client().lifecycle('get_customer', '1.0.0', 'approve');
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/v1/tools/get_customer/versions/1.0.0/deprecate', '{"reason":"old"}'],
      ['POST', '/v1/tools/get_customer/versions/1.0.0/approve', '{}'],
    ]);
  });

  it('hands back the JSON as it arrived, unknown members included, with the headers', async () => {
    answers.push(
      json(200, { ...record(), futureField: 1 }, { warning: '299 toolbus-registry "old"' }),
    );
    const answer = await client().getTool('get_customer');
    expect((answer.raw as Record<string, unknown>)['futureField']).toBe(1);
    expect(answer.headers.get('warning')).toBe('299 toolbus-registry "old"');
  });
});

describe('RegistryClient failures', () => {
  it('turns a problem+json answer into a refusal with its issues and raw body', async () => {
    const problem = {
      type: 'https://toolbus.dev/problems/invalid_input',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'invalid query',
      issues: [{ pointer: '/region', message: 'must be a region code' }],
    };
    answers.push(json(422, problem, { 'content-type': 'application/problem+json' }));
    const error = await client()
      .searchTools({ region: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryRefusedError);
    const refused = error as RegistryRefusedError;
    expect(refused.status).toBe(422);
    expect(refused.message).toBe('invalid query');
    expect(refused.problem.issues).toEqual(problem.issues);
    expect(refused.body).toEqual(problem);
  });

  it('describes an error page that is not a problem (a proxy in the way)', async () => {
    answers.push((res) => {
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      res.end('<html><body>upstream down</body></html>');
    });
    const error = (await client()
      .searchTools({})
      .catch((e: unknown) => e)) as RegistryRefusedError;
    expect(error).toBeInstanceOf(RegistryRefusedError);
    expect(error.message).toBe('HTTP 502 Bad Gateway: <html><body>upstream down</body></html>');
  });

  it('refuses a success that breaks the contract, naming the bad field by pointer', async () => {
    answers.push(json(200, { items: [{ ...record(), status: 'published' }], nextCursor: null }));
    const error = (await client()
      .searchTools({})
      .catch((e: unknown) => e)) as UnexpectedResponseError;
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(error.message).toBe(
      'the answer to GET /v1/tools does not match the registry API contract',
    );
    expect(error.issues[0]!.pointer).toBe('/items/0/status');
  });

  it('refuses a success that is not JSON', async () => {
    answers.push((res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Grafana</title>');
    });
    const error = (await client()
      .getTool('x')
      .catch((e: unknown) => e)) as UnexpectedResponseError;
    expect(error.issues).toEqual([
      { pointer: '/', message: 'is not JSON: <!doctype html><title>Grafana</title>' },
    ]);
  });

  it('says the registry is unreachable when nothing listens, with the socket error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const error = (await client({ baseUrl: `http://127.0.0.1:${port}` })
      .searchTools({})
      .catch((e: unknown) => e)) as RegistryUnreachableError;
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toBe(
      `cannot reach the registry at http://127.0.0.1:${port}: ECONNREFUSED`,
    );
  });

  it('gives up after the timeout and says how to wait longer', async () => {
    const error = (await client({ timeoutMs: 100 })
      .searchTools({})
      .catch((e: unknown) => e)) as RegistryUnreachableError;
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.reason).toBe('no answer within 100 ms (raise it with --timeout-ms)');
  });
});
