import { createServer } from 'node:net';
import { SecretStore } from '@toolbus/security';
import { classify } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capturingLogger,
  httpTool,
  loopbackFetch,
  secretsDir,
  type SecretsDir,
} from '../../test/http-tools.js';
import { HttpToolExecutor } from './http-tool-executor.js';

/** A port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('HttpToolExecutor before and around the network', () => {
  let secrets: SecretsDir;
  const log = capturingLogger();
  let executor: HttpToolExecutor;
  const egress = loopbackFetch();
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
      },
      (e: unknown) => e,
    );
    return classify(error).safe;
  };
  const soon = () => ({ deadline: Date.now() + 5_000 });

  beforeAll(async () => {
    secrets = await secretsDir();
    await secrets.put('half-set', { username: 'svc-user' });
    executor = new HttpToolExecutor({
      secrets: new SecretStore(secrets.dir),
      retryAttempts: 3,
      retryBaseMs: 5,
      maxResponseBytes: 1024,
      fetch: egress.fetch,
      credentialOrigins: { 'half-set': ['http://127.0.0.1:9'], 'crm-api': ['http://127.0.0.1:9'] },
      logger: log.logger,
    });
  });
  afterAll(async () => {
    await secrets.remove();
    await egress.close();
  });

  it('names the secret and key that are missing, never a value, and calls nothing', async () => {
    const tool = httpTool('get_thing', {
      method: 'GET',
      baseUrl: 'http://127.0.0.1:9',
      path: '/things',
      auth: { kind: 'basic' },
      credentialsSecret: 'half-set',
    });
    expect(await failure(executor.execute(tool, {}, soon()))).toEqual({
      class: 'business',
      code: 'credentials_unavailable',
      message:
        'the credentials of get_thing are not available: secret "half-set" has no readable key "password"; an operator must mount it',
      retryable: false,
    });
    expect(log.lines()).toContain('"secretName":"half-set"');
    expect(log.lines()).not.toContain('svc-user');
  });

  it('refuses auth without a secret to read it from', async () => {
    const tool = httpTool('get_thing', {
      method: 'GET',
      baseUrl: 'http://127.0.0.1:9',
      path: '/things',
      auth: { kind: 'bearer' },
    });
    expect((await failure(executor.execute(tool, {}, soon()))).message).toBe(
      'get_thing needs bearer credentials but its binding names no credentials secret; it must be fixed in the registry',
    );
  });

  it('refuses a credential paired with an origin CREDENTIAL_ORIGINS does not list, before reading it', async () => {
    await secrets.put('crm-api', { token: 'crm-token-value' });
    const foreign = httpTool('get_thing', {
      method: 'GET',
      baseUrl: 'https://attacker.example/collect',
      path: '/things',
      auth: { kind: 'bearer' },
      credentialsSecret: 'crm-api',
    });
    expect(await failure(executor.execute(foreign, {}, soon()))).toEqual({
      class: 'forbidden',
      code: 'credential_origin',
      message:
        'get_thing was not called: the credential "crm-api" may be sent only to http://127.0.0.1:9, not to https://attacker.example; the credential was not sent',
      retryable: false,
    });
    const unlisted = httpTool('get_thing', {
      method: 'GET',
      baseUrl: 'http://127.0.0.1:9',
      path: '/things',
      auth: { kind: 'api_key', in: 'header', name: 'x-api-key' },
      credentialsSecret: 'erp-api',
    });
    expect((await failure(executor.execute(unlisted, {}, soon()))).message).toBe(
      'get_thing was not called: the credential "erp-api" may be sent to no origin: CREDENTIAL_ORIGINS does not list it; the credential was not sent',
    );
    expect(log.lines()).not.toContain('crm-token-value');
  });

  it('refuses an upstream at an internal address once, without retrying, naming its class', async () => {
    for (const baseUrl of [
      'http://169.254.169.254/latest',
      'http://10.0.0.1',
      'http://[::1]:8080',
    ]) {
      const get = httpTool('get_thing', { method: 'GET', baseUrl, path: '/things' });
      const error = await failure(executor.execute(get, {}, soon()));
      expect({ baseUrl, ...error }).toMatchObject({
        baseUrl,
        class: 'forbidden',
        code: 'egress_refused',
        retryable: false,
      });
    }
    const metadata = httpTool('get_thing', {
      method: 'GET',
      baseUrl: 'http://169.254.169.254/latest',
      path: '/meta-data',
    });
    expect((await failure(executor.execute(metadata, {}, soon()))).message).toBe(
      'GET http://169.254.169.254/latest/meta-data was not called: egress to 169.254.169.254 (link-local) is not allowed; EGRESS_ALLOW lists the exceptions',
    );
  });

  it('retries a refused connection for GET, then reports the upstream unreachable', async () => {
    const port = await closedPort();
    const get = httpTool('get_thing', {
      method: 'GET',
      baseUrl: `http://127.0.0.1:${port}`,
      path: '/things',
    });
    expect(await failure(executor.execute(get, {}, soon()))).toEqual({
      class: 'unavailable',
      code: 'upstream_unreachable',
      message: `GET http://127.0.0.1:${port}/things could not be reached (ECONNREFUSED) (3 attempts)`,
      retryable: true,
    });
    const post = httpTool('create_thing', {
      method: 'POST',
      baseUrl: `http://127.0.0.1:${port}`,
      path: '/things',
    });
    expect((await failure(executor.execute(post, {}, soon()))).message).toBe(
      `POST http://127.0.0.1:${port}/things could not be reached (ECONNREFUSED) (not retried: POST is not idempotent)`,
    );
  });

  it('gives up at once when the deadline has no room for another attempt', async () => {
    const port = await closedPort();
    const get = httpTool('get_thing', {
      method: 'GET',
      baseUrl: `http://127.0.0.1:${port}`,
      path: '/things',
    });
    const slowBackoff = new HttpToolExecutor({
      secrets: new SecretStore(secrets.dir),
      retryAttempts: 5,
      retryBaseMs: 60_000,
      maxResponseBytes: 1024,
      fetch: egress.fetch,
      credentialOrigins: {},
      logger: log.logger,
    });
    const started = Date.now();
    const error = await failure(slowBackoff.execute(get, {}, { deadline: Date.now() + 1_000 }));
    expect(error.code).toBe('upstream_unreachable');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('answers "cancelled" as soon as the caller aborts', async () => {
    const port = await closedPort();
    const get = httpTool('get_thing', {
      method: 'GET',
      baseUrl: `http://127.0.0.1:${port}`,
      path: '/things',
    });
    const aborted = AbortSignal.abort(new Error('shutting down'));
    expect(await failure(executor.execute(get, {}, { ...soon(), signal: aborted }))).toMatchObject({
      class: 'unavailable',
      code: 'cancelled',
    });
  });

  it('refuses a definition without an http binding, or with an unusable output schema', () => {
    const tool = httpTool('get_thing', { method: 'GET', baseUrl: 'http://a.example', path: '/' });
    expect(() => executor.prepare({ ...tool, binding: undefined })).toThrow(
      'get_thing 1.0.0 has no http binding',
    );
    expect(() => executor.prepare({ ...tool, outputSchema: { type: 'thing' } })).toThrow(
      /schema is invalid/,
    );
  });
});
