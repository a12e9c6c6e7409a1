import { SecretStore } from '@toolbus/security';
import { BusinessError, classify, RetryableToolError } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpToolExecutor } from '../src/index.js';
import {
  capturingLogger,
  httpTool,
  loopbackFetch,
  secretsDir,
  type BindingSpec,
  type SecretsDir,
} from './http-tools.js';
import { echo, sendJson, startUpstream, type Upstream } from './upstream-server.js';

const TOKEN = 'tok_live_4f9a/+Zq';
const API_KEY = 'ak-7731-secret';
const USERNAME = 'svc-orders';
const PASSWORD = 'pa ss:w0rd!';

/** The HTTP executor against a real REST service (node:http on 127.0.0.1) and real secret files. */
describe('HttpToolExecutor against a real HTTP server', () => {
  let upstream: Upstream;
  let secrets: SecretsDir;
  let executor: HttpToolExecutor;
  const log = capturingLogger();
  const egress = loopbackFetch();

  beforeAll(async () => {
    upstream = await startUpstream();
    secrets = await secretsDir();
    await secrets.put('orders-bearer', { token: TOKEN });
    await secrets.put('orders-basic', { username: USERNAME, password: PASSWORD });
    await secrets.put('orders-key', { api_key: API_KEY });
    executor = new HttpToolExecutor({
      secrets: new SecretStore(secrets.dir),
      retryAttempts: 3,
      retryBaseMs: 10,
      maxResponseBytes: 4096,
      fetch: egress.fetch,
      credentialOrigins: Object.fromEntries(
        ['orders-bearer', 'orders-basic', 'orders-key'].map((secret) => [secret, [upstream.url]]),
      ),
      logger: log.logger,
    });
  });
  beforeEach(() => upstream.reset(echo));
  afterAll(async () => {
    await upstream?.close();
    await egress.close();
    await secrets?.remove();
    // Whatever happened above, no credential reached a log line.
    for (const value of [TOKEN, API_KEY, PASSWORD]) expect(log.lines()).not.toContain(value);
  });

  const tool = (spec: Omit<BindingSpec, 'baseUrl'>, timeoutMs = 5_000) =>
    httpTool('orders_tool', { baseUrl: `${upstream.url}/api/v1`, ...spec }, { timeoutMs });
  const run = (
    definition: ReturnType<typeof tool>,
    input: Record<string, unknown> = {},
    deadlineMs = 10_000,
    idempotencyKey?: string,
  ) =>
    executor.execute(definition, input, {
      deadline: Date.now() + deadlineMs,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
  /** What the model would be shown for the call's failure. */
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
      },
      (e: unknown) => e,
    );
    expect([BusinessError, RetryableToolError]).toContain((error as object).constructor);
    return classify(error).safe;
  };

  describe('request mapping', () => {
    it('sends path, query and header parameters, and a JSON body', async () => {
      const definition = tool({
        method: 'PUT',
        path: '/customers/{id}/notes',
        parameters: [
          { field: 'customer_id', in: 'path', name: 'id', required: true },
          { field: 'tags', in: 'query', name: 'tag', required: false },
          { field: 'notify', in: 'query', name: 'notify', required: false },
          { field: 'priority', in: 'query', name: 'priority', required: false },
          { field: 'filter', in: 'query', name: 'filter', required: false },
          { field: 'tenant', in: 'header', name: 'X-Tenant', required: true },
        ],
        body: { field: 'note', contentType: 'application/json', required: true },
      });
      const output = await run(definition, {
        customer_id: 'cus 001/ü',
        tags: ['vip', 'eu'],
        notify: true,
        priority: 2,
        filter: { since: '2025-01-01' },
        tenant: 'acme',
        note: { text: 'called back', at: '2025-01-02T10:00:00Z' },
      });
      const [seen] = upstream.requests;
      expect(seen).toMatchObject({
        method: 'PUT',
        path: '/api/v1/customers/cus%20001%2F%C3%BC/notes',
        body: '{"text":"called back","at":"2025-01-02T10:00:00Z"}',
      });
      expect([...seen!.query]).toEqual([
        ['tag', 'vip'],
        ['tag', 'eu'],
        ['notify', 'true'],
        ['priority', '2'],
        ['filter', '{"since":"2025-01-01"}'],
      ]);
      expect(seen!.headers).toMatchObject({
        'x-tenant': 'acme',
        'content-type': 'application/json',
        accept: 'application/json, */*;q=0.8',
      });
      expect(seen!.headers).not.toHaveProperty('authorization');
      expect(seen!.headers).not.toHaveProperty('idempotency-key'); // PUT is idempotent already
      expect(output).toMatchObject({ method: 'PUT' });
    });

    it('sends a form body, and the call’s idempotency key on POST', async () => {
      const definition = tool({
        method: 'POST',
        path: '/orders',
        body: {
          field: 'order',
          contentType: 'application/x-www-form-urlencoded',
          required: true,
        },
      });
      await run(
        definition,
        { order: { sku: 'A 1', qty: 2, gift: false, lines: ['x', 'y'] } },
        10_000,
        'call-key-0001',
      );
      const [seen] = upstream.requests;
      expect(seen!.body).toBe('sku=A+1&qty=2&gift=false&lines=x&lines=y');
      expect(seen!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(seen!.headers['idempotency-key']).toBe('call-key-0001');
    });
  });

  describe('credentials from the secrets directory', () => {
    it('presents a bearer token', async () => {
      await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'bearer' },
          credentialsSecret: 'orders-bearer',
        }),
      );
      expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    });

    it('presents basic credentials', async () => {
      await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'basic' },
          credentialsSecret: 'orders-basic',
        }),
      );
      const header = upstream.requests[0]!.headers.authorization!;
      expect(header.startsWith('Basic ')).toBe(true);
      expect(Buffer.from(header.slice(6), 'base64').toString()).toBe(`${USERNAME}:${PASSWORD}`);
    });

    it('presents an API key in a header or in the query', async () => {
      await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'api_key', in: 'header', name: 'X-Api-Key' },
          credentialsSecret: 'orders-key',
        }),
      );
      expect(upstream.requests[0]!.headers['x-api-key']).toBe(API_KEY);
      upstream.reset(echo);
      await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'api_key', in: 'query', name: 'key' },
          credentialsSecret: 'orders-key',
        }),
      );
      expect(upstream.requests[0]!.query.getAll('key')).toEqual([API_KEY]);
    });

    it('never lets the input replace the credentials', async () => {
      const parameters = [
        { field: 'auth', in: 'header' as const, name: 'Authorization', required: false },
        { field: 'key_header', in: 'header' as const, name: 'x-api-key', required: false },
        { field: 'key_query', in: 'query' as const, name: 'key', required: false },
      ];
      const forged = { auth: 'Bearer forged', key_header: 'forged', key_query: ['forged'] };
      await run(
        tool({
          method: 'GET',
          path: '/me',
          parameters,
          auth: { kind: 'bearer' },
          credentialsSecret: 'orders-bearer',
        }),
        forged,
      );
      expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
      upstream.reset(echo);
      await run(
        tool({
          method: 'GET',
          path: '/me',
          parameters,
          auth: { kind: 'api_key', in: 'header', name: 'X-API-KEY' },
          credentialsSecret: 'orders-key',
        }),
        forged,
      );
      expect(upstream.requests[0]!.headers['x-api-key']).toBe(API_KEY);
      expect(upstream.requests[0]!.headers).not.toHaveProperty('authorization');
      upstream.reset(echo);
      await run(
        tool({
          method: 'GET',
          path: '/me',
          parameters,
          auth: { kind: 'api_key', in: 'query', name: 'key' },
          credentialsSecret: 'orders-key',
        }),
        forged,
      );
      expect(upstream.requests[0]!.query.getAll('key')).toEqual([API_KEY]);
    });

    it('names a missing secret key without calling the upstream', async () => {
      const error = await failure(
        run(
          tool({
            method: 'GET',
            path: '/me',
            auth: { kind: 'bearer' },
            credentialsSecret: 'orders-key',
          }),
        ),
      );
      expect(error).toEqual({
        class: 'business',
        code: 'credentials_unavailable',
        message:
          'the credentials of orders_tool are not available: secret "orders-key" has no readable key "token"; an operator must mount it',
        retryable: false,
      });
      expect(upstream.requests).toHaveLength(0);
    });
  });

  describe('timeouts and retries', () => {
    it('abandons an attempt after the tool’s timeout and retries an idempotent call', async () => {
      upstream.reset((request, response, n) => {
        if (n === 1) return; // never answers: the attempt must time out
        sendJson(response, 200, { ok: true });
      });
      const started = performance.now();
      expect(await run(tool({ method: 'GET', path: '/slow' }, 300))).toEqual({ ok: true });
      expect(upstream.requests).toHaveLength(2);
      expect(upstream.requests[1]!.at - upstream.requests[0]!.at).toBeGreaterThanOrEqual(290);
      expect(performance.now() - started).toBeLessThan(3_000);
    });

    it('reports a timeout after the last attempt, bounded by the call’s deadline', async () => {
      upstream.reset(() => undefined);
      const started = performance.now();
      const error = await failure(run(tool({ method: 'POST', path: '/slow' }, 300)));
      expect(error).toEqual({
        class: 'unavailable',
        code: 'upstream_timeout',
        message: `POST ${upstream.url}/api/v1/slow did not answer within 300 ms (not retried: POST is not idempotent)`,
        retryable: true,
      });
      expect(upstream.requests).toHaveLength(1);
      upstream.reset(() => undefined);
      // The tool allows 5 s per attempt, the caller 400 ms in all: the caller's deadline wins.
      const bounded = await failure(run(tool({ method: 'GET', path: '/slow' }, 5_000), {}, 400));
      expect(bounded.code).toBe('deadline_exceeded');
      expect(performance.now() - started).toBeLessThan(2_500);
    });

    it('retries GET after two 503s and returns the third answer', async () => {
      upstream.reset((request, response, n) =>
        n <= 2
          ? sendJson(response, 503, { error: 'warming up' })
          : sendJson(response, 200, { items: [1, 2] }),
      );
      expect(await run(tool({ method: 'GET', path: '/items' }))).toEqual({ items: [1, 2] });
      expect(upstream.requests).toHaveLength(3);
    });

    it('sends POST once, even when it is answered 503', async () => {
      upstream.reset((request, response) => sendJson(response, 503, { error: 'overloaded' }));
      const error = await failure(run(tool({ method: 'POST', path: '/orders' })));
      expect(error).toEqual({
        class: 'unavailable',
        code: 'upstream_503',
        message: `POST ${upstream.url}/api/v1/orders answered 503 Service Unavailable (not retried: POST is not idempotent): {"error":"overloaded"}`,
        retryable: true,
      });
      expect(upstream.requests).toHaveLength(1);
    });

    it('gives up retrying with the last answer once the attempts are spent', async () => {
      upstream.reset((request, response) => sendJson(response, 502, { error: 'bad gateway' }));
      const error = await failure(run(tool({ method: 'DELETE', path: '/orders/1' })));
      expect(error.message).toBe(
        `DELETE ${upstream.url}/api/v1/orders/1 answered 502 Bad Gateway (3 attempts): {"error":"bad gateway"}`,
      );
      expect(upstream.requests).toHaveLength(3);
    });

    it('waits as long as Retry-After asks when that fits the deadline', async () => {
      upstream.reset((request, response, n) =>
        n === 1
          ? sendJson(response, 429, { error: 'slow down' }, { 'retry-after': '1' })
          : sendJson(response, 200, { ok: true }),
      );
      expect(await run(tool({ method: 'GET', path: '/limited' }))).toEqual({ ok: true });
      expect(upstream.requests).toHaveLength(2);
      expect(upstream.requests[1]!.at - upstream.requests[0]!.at).toBeGreaterThanOrEqual(990);
    });

    it('does not wait for a Retry-After beyond the deadline: it answers at once', async () => {
      upstream.reset((request, response) =>
        sendJson(response, 429, { error: 'quota' }, { 'retry-after': '30' }),
      );
      const started = performance.now();
      const error = await failure(run(tool({ method: 'GET', path: '/limited' }), {}, 5_000));
      expect(error).toEqual({
        class: 'unavailable',
        code: 'upstream_429',
        message: `GET ${upstream.url}/api/v1/limited answered 429 Too Many Requests (it asked to retry after 30 s, past the call's deadline): {"error":"quota"}`,
        retryable: true,
      });
      expect(upstream.requests).toHaveLength(1);
      expect(performance.now() - started).toBeLessThan(1_000);
    });
  });

  describe('answers', () => {
    it('parses JSON (also +json), returns text as text, and 204 or an empty body as null', async () => {
      upstream.reset((request, response) => {
        if (request.path.endsWith('/problem')) {
          response.writeHead(200, { 'content-type': 'application/hal+json; charset=utf-8' });
          response.end('{"_links":{}}');
        } else if (request.path.endsWith('/text')) {
          response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('pong');
        } else if (request.path.endsWith('/empty')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end();
        } else {
          response.writeHead(204);
          response.end();
        }
      });
      expect(await run(tool({ method: 'GET', path: '/problem' }))).toEqual({ _links: {} });
      expect(await run(tool({ method: 'GET', path: '/text' }))).toBe('pong');
      expect(await run(tool({ method: 'GET', path: '/empty' }))).toBeNull();
      expect(await run(tool({ method: 'DELETE', path: '/gone' }))).toBeNull();
    });

    it('maps 404, 422 and 500 to the right class, with the status and an excerpt', async () => {
      upstream.reset((request, response) => {
        const status = Number(request.path.split('/').pop());
        sendJson(response, status, {
          detail: `failed with ${status}`,
          trace: 'line1\nline2\u0000',
        });
      });
      const url = `${upstream.url}/api/v1`;
      expect(await failure(run(tool({ method: 'GET', path: '/status/404' })))).toEqual({
        class: 'not_found',
        code: 'upstream_404',
        message: `GET ${url}/status/404 answered 404 Not Found: {"detail":"failed with 404","trace":"line1\\nline2\\u0000"}`,
        retryable: false,
      });
      expect(await failure(run(tool({ method: 'POST', path: '/status/422' })))).toMatchObject({
        class: 'business',
        code: 'upstream_422',
        retryable: false,
      });
      expect(await failure(run(tool({ method: 'GET', path: '/status/500' })))).toEqual({
        class: 'unavailable',
        code: 'upstream_500',
        message: `GET ${url}/status/500 answered 500 Internal Server Error: {"detail":"failed with 500","trace":"line1\\nline2\\u0000"}`,
        retryable: true,
      });
      // 500 is not one of the statuses retried here: the caller decides.
      expect(upstream.requests.filter((r) => r.path.endsWith('/500'))).toHaveLength(1);
      expect((await failure(run(tool({ method: 'GET', path: '/status/409' })))).code).toBe(
        'upstream_409',
      );
    });

    it('strips control characters and shortens a long body to 300 characters', async () => {
      upstream.reset((request, response) => {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(`bad\r\n\trequest\u0007 ${'z'.repeat(5_000)}`);
      });
      const error = await failure(run(tool({ method: 'GET', path: '/bad' })));
      const excerpt = error.message.split(': ').slice(1).join(': ');
      expect(excerpt.startsWith('bad request zzz')).toBe(true);
      expect(excerpt).toHaveLength(300);
    });

    it('says the upstream refused the configured credentials on 401 and 403', async () => {
      for (const [status, text] of [
        [401, 'Unauthorized'],
        [403, 'Forbidden'],
      ] as const) {
        upstream.reset((request, response) => sendJson(response, status, { error: 'refused' }));
        expect(
          await failure(
            run(
              tool({
                method: 'GET',
                path: '/me',
                auth: { kind: 'bearer' },
                credentialsSecret: 'orders-bearer',
              }),
            ),
          ),
        ).toEqual({
          class: 'forbidden',
          code: `upstream_${status}`,
          message: `GET ${upstream.url}/api/v1/me answered ${status} ${text}: the upstream refused the configured credentials (secret "orders-bearer"): {"error":"refused"}`,
          retryable: false,
        });
        expect(upstream.requests).toHaveLength(1);
      }
    });

    it('redacts every credential an error body echoes back', async () => {
      upstream.reset((request, response) =>
        sendJson(response, 400, {
          error: 'invalid credentials',
          received: request.headers,
          query: request.target,
        }),
      );
      const keyInQuery = await failure(
        run(
          tool({
            method: 'GET',
            path: '/me',
            auth: { kind: 'api_key', in: 'query', name: 'key' },
            credentialsSecret: 'orders-key',
          }),
        ),
      );
      expect(keyInQuery.message).toContain('"query":"/api/v1/me?key=[redacted]"');
      expect(keyInQuery.message).not.toContain(API_KEY);

      const bearer = await failure(
        run(
          tool({
            method: 'GET',
            path: '/me',
            auth: { kind: 'bearer' },
            credentialsSecret: 'orders-bearer',
          }),
        ),
      );
      expect(bearer.message).toContain('"authorization":"Bearer [redacted]"');
      expect(bearer.message).not.toContain(TOKEN);

      const basic = await failure(
        run(
          tool({
            method: 'GET',
            path: '/me',
            auth: { kind: 'basic' },
            credentialsSecret: 'orders-basic',
          }),
        ),
      );
      expect(basic.message).toContain('"authorization":"Basic [redacted]"');
    });

    it('redacts every credential a successful answer echoes back, in every string of the output', async () => {
      // echo answers 200 with the request as seen: its headers and its query string.
      const bearer = (await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'bearer' },
          credentialsSecret: 'orders-bearer',
        }),
      )) as { headers: Record<string, string> };
      expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(bearer.headers['authorization']).toBe('Bearer [redacted]');
      upstream.reset(echo);
      const keyed = (await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'api_key', in: 'query', name: 'key' },
          credentialsSecret: 'orders-key',
        }),
      )) as { target: string };
      expect(keyed.target).toBe('/api/v1/me?key=[redacted]');
      upstream.reset(echo);
      const basic = await run(
        tool({
          method: 'GET',
          path: '/me',
          auth: { kind: 'basic' },
          credentialsSecret: 'orders-basic',
        }),
      );
      const text = JSON.stringify(basic);
      for (const value of [TOKEN, API_KEY, PASSWORD, encodeURIComponent(API_KEY)])
        expect(text).not.toContain(value);
      expect(text).toContain('"authorization":"Basic [redacted]"');
    });

    it('refuses an answer that does not match the output schema, listing the pointers', async () => {
      upstream.reset((request, response) =>
        sendJson(response, 200, { id: 42, email: 'not-an-email', extra: true }),
      );
      const definition = httpTool(
        'get_contact',
        { baseUrl: upstream.url, method: 'GET', path: '/contact' },
        {
          outputSchema: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: {
              id: { type: 'string' },
              email: { type: 'string', format: 'email' },
              name: { type: 'string' },
            },
            required: ['id', 'name'],
            additionalProperties: false,
          },
        },
      );
      expect(await failure(run(definition))).toEqual({
        class: 'business',
        code: 'upstream_response_invalid',
        message: `GET ${upstream.url}/contact answered with data that does not match the output schema of get_contact: /name is required; /extra is not allowed here; /id must be string; /email must match format "email"`,
        retryable: false,
      });
    });

    it('refuses an answer bigger than the limit, declared or streamed', async () => {
      upstream.reset((request, response) => {
        const big = JSON.stringify({ data: 'x'.repeat(10_000) });
        if (request.path.endsWith('/declared')) {
          sendJson(response, 200, JSON.parse(big));
        } else {
          response.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
          response.write(big.slice(0, 3_000));
          response.end(big.slice(3_000));
        }
      });
      for (const path of ['/declared', '/streamed'])
        expect(await failure(run(tool({ method: 'GET', path })))).toEqual({
          class: 'business',
          code: 'upstream_response_too_large',
          message: `GET ${upstream.url}/api/v1${path} answered with more than 4096 bytes, the most this executor accepts (HTTP_MAX_RESPONSE_BYTES); the response was refused`,
          retryable: false,
        });
    });

    it('does not follow redirects, so credentials stay with the configured server', async () => {
      upstream.reset((request, response) => {
        response.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
        response.end();
      });
      expect(
        await failure(
          run(
            tool({
              method: 'GET',
              path: '/moved',
              auth: { kind: 'bearer' },
              credentialsSecret: 'orders-bearer',
            }),
          ),
        ),
      ).toMatchObject({ class: 'business', code: 'upstream_302' });
      expect(upstream.requests).toHaveLength(1);
    });
  });
});
