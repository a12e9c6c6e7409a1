import { generateKeyPairSync } from 'node:crypto';
import type { Principal, SafeError, ToolCallRequested } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { CallGrantSigner } from '@toolbus/security';
import { ConfigError } from '@toolbus/service-kit';
import { completedOf, failureOf, toolCall, uniqueName } from '@toolbus/testing';
import {
  consumerTestEnv,
  grantEnv,
  signTestGrant,
  startToolCaller,
  TEST_GRANT_ISSUER,
  TEST_GRANT_KID,
  testGrantHeader,
  type ToolCaller,
} from '@toolbus/testing-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineTool,
  runToolConsumer,
  type RunningToolConsumer,
  type ToolContext,
} from '../src/index.js';

/** What each handler run saw: the test proves refused calls never get here. */
const seen: Array<{ key: string; principal: Principal; tenant: string }> = [];
const record = (tool: string, scopes: string[], region?: string) =>
  defineTool({
    name: tool,
    title: tool,
    description: 'Records who called it and answers with the text it was given.',
    input: z.object({ text: z.string() }),
    output: z.object({ text: z.string() }),
    scopes,
    sync: true,
    ...(region ? { region } : {}),
    handler: async ({ text }, ctx: ToolContext) => {
      seen.push({ key: ctx.idempotencyKey, principal: ctx.principal, tenant: ctx.tenant });
      return { text };
    },
  });

const alice: Principal = {
  subject: 'alice',
  kind: 'user',
  tenant: 'acme',
  scopes: ['notes:write', 'notes:read'],
  displayName: 'Alice',
};

describe('call grants: the SDK runs only calls their grant authorizes (real Kafka and PostgreSQL)', () => {
  const service = uniqueName('grants')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 30);
  const schema = service.replace(/-/g, '_');
  const logger = createLogger({
    name: 'grants-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service,
        tools: [
          record('write_note', ['notes:write']),
          record('write_us_note', ['notes:write'], 'us'),
        ],
      },
      { env: consumerTestEnv(schema), logger },
    );
    caller = await startToolCaller({ logger, name: 'grants-caller' });
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await consumer?.close();
  });

  const call = (extra: Partial<ToolCallRequested> = {}, tool = 'write_note') =>
    ({
      ...toolCall(tool, { text: uniqueName('t') }, { principal: alice }),
      ...extra,
    }) as ToolCallRequested;
  const dedupRows = async (key: string) =>
    (
      (await consumer.db.query(
        'SELECT count(*)::int AS n FROM tool_call_dedup WHERE idempotency_key = $1',
        [key],
      )) as Array<{ n: number }>
    )[0]!.n;
  /** Sends `c` with `grant` as it is; expects a refusal that ran nothing and recorded nothing. */
  const refused = async (c: ToolCallRequested, grant: string | undefined): Promise<SafeError> => {
    const runs = seen.length;
    const error = failureOf(await caller.call(service, { ...c, grant }, { unsigned: true }));
    expect(seen.length, 'the handler ran').toBe(runs);
    expect(await dedupRows(c.idempotencyKey), 'a dedup record was written').toBe(0);
    return error;
  };
  const forger = new CallGrantSigner({
    key: generateKeyPairSync('ed25519').privateKey,
    kid: TEST_GRANT_KID, // claims the trusted key's id
    issuer: TEST_GRANT_ISSUER,
  });

  it("runs a granted call with the grant's principal and tenant", async () => {
    const c = call();
    // The body's display name is not the grant's; the handler sees the grant's word only.
    const grant = await signTestGrant(service, c);
    const reply = await caller.call(service, {
      ...c,
      grant,
      principal: { ...alice, displayName: 'Mallory' },
    });
    expect(completedOf(reply).output).toEqual(c.input);
    expect(seen.at(-1)).toEqual({
      key: c.idempotencyKey,
      tenant: 'acme',
      principal: {
        subject: 'alice',
        kind: 'user',
        tenant: 'acme',
        scopes: alice.scopes,
        displayName: 'Alice',
      },
    });
  });

  it('refuses over Kafka a call without a grant, a forged, an expired or a foreign one', async () => {
    const c = call();
    expect(await refused(c, undefined)).toMatchObject({
      class: 'forbidden',
      code: 'grant_missing',
      retryable: false,
    });
    expect(await refused(c, await forger.sign(c, service))).toMatchObject({
      code: 'grant_invalid',
      message: 'the call grant is not signed by a key this service trusts',
    });
    const stale = { ...c, deadline: new Date(Date.now() - 60_000).toISOString() };
    expect(await refused(c, await signTestGrant(service, stale))).toMatchObject({
      code: 'grant_expired',
    });
    expect(await refused(c, await signTestGrant('erp', c))).toMatchObject({
      code: 'grant_audience',
      message: `the call grant is for another service, not "${service}"`,
    });
  });

  it('refuses a grant of another call: another tool, input or key, or a body that contradicts it', async () => {
    const c = call();
    const grant = await signTestGrant(service, c);
    expect(await refused({ ...c, tool: 'write_us_note' }, grant)).toMatchObject({
      code: 'grant_tool',
    });
    expect(await refused({ ...c, input: { text: 'other' } }, grant)).toMatchObject({
      code: 'grant_input',
    });
    expect(await refused({ ...c, idempotencyKey: uniqueName('key') }, grant)).toMatchObject({
      code: 'grant_idempotency_key',
    });
    const mallory = { ...alice, subject: 'mallory' };
    expect(await refused({ ...c, principal: mallory }, grant)).toMatchObject({
      code: 'grant_mismatch',
      message: "the call's principal differ from its call grant's",
    });
    expect(
      await refused({ ...c, tenant: 'globex', principal: { ...alice, tenant: 'globex' } }, grant),
    ).toMatchObject({
      code: 'grant_mismatch',
      message: "the call's tenant differ from its call grant's",
    });
    expect(
      await refused({ ...c, principal: { ...alice, scopes: ['notes:*'] } }, grant),
    ).toMatchObject({
      code: 'grant_mismatch',
    });
  });

  it("refuses a grant whose scopes or region do not satisfy the tool's", async () => {
    const reader = call({ principal: { ...alice, scopes: ['notes:read'] } });
    expect(await refused(reader, await signTestGrant(service, reader))).toMatchObject({
      class: 'forbidden',
      code: 'grant_scope',
      message: 'the call grant lacks the scopes write_note needs: notes:write',
    });
    const eu = call({}, 'write_us_note');
    expect(await refused(eu, await signTestGrant(service, eu))).toMatchObject({
      code: 'grant_region',
      message: 'write_us_note processes data in region us; the call grant is for region eu',
    });
    const us = call({ region: 'us' }, 'write_us_note');
    expect(completedOf(await caller.call(service, us)).output).toEqual(us.input);
    // A wildcard scope covers the tool's.
    const wild = call({ principal: { ...alice, scopes: ['notes:*'] } });
    expect(completedOf(await caller.call(service, wild)).output).toEqual(wild.input);
  });

  it('takes the grant from the bearer header over HTTP: 401 without a trustworthy one, 403 for a foreign one', async () => {
    const { tool: _t, deadline: _d, ...body } = call();
    const post = (headers: Record<string, string>, payload: unknown = body) =>
      fetch(`${consumer.url}/tools/write_note:invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(payload),
      });
    const runs = seen.length;
    const good = await testGrantHeader(service, body, 'write_note');
    // A grant in the body does not count over HTTP.
    const missing = await post({}, { ...body, grant: good.authorization.slice(7) });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="toolbus"');
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(await missing.json()).toMatchObject({
      status: 401,
      error: { class: 'forbidden', code: 'grant_missing' },
    });
    const forged = await post({
      authorization: `Bearer ${await forger.sign({ ...body, tool: 'write_note', deadline: new Date(Date.now() + 5_000).toISOString() }, service)}`,
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toBe(
      'Bearer realm="toolbus", error="invalid_token"',
    );
    const foreign = await post(await testGrantHeader('erp', body, 'write_note'));
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: 'grant_audience' } });
    expect(seen.length).toBe(runs);
    const ok = await post(good);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ output: body.input });
  });

  it('counts and logs each refusal by reason', async () => {
    const metrics = await (await fetch(`${consumer.managementUrl}/metrics`)).text();
    for (const reason of [
      'missing',
      'signature',
      'expired',
      'audience',
      'tool',
      'input',
      'idempotency_key',
      'mismatch',
      'scope',
      'region',
    ])
      expect(metrics).toMatch(
        new RegExp(
          `toolbus_tool_grant_refusals_total\\{service="${service}",reason="${reason}"\\} [1-9]`,
        ),
      );
  });
});

describe('call grant configuration', () => {
  // In-process bus and database: the consumer never gets as far as taking a call.
  const start = (env: Record<string, string>) =>
    runToolConsumer(
      { service: 'grant-config', tools: [record('write_note', ['notes:write'])] },
      { env: { DATABASE_URL: 'pglite://memory', PORT: '0', LOG_LEVEL: 'silent', ...env } },
    );
  const problems = async (env: Record<string, string>) => {
    const error = await start(env).then(
      async (c) => {
        await c.close();
        throw new Error('the consumer started');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  };

  it('refuses to start without the keys, with both sources, or with a key file it cannot use', async () => {
    expect(await problems({})).toEqual([
      {
        variable: 'CALL_GRANT_JWKS_FILE',
        message: expect.stringContaining('is required (or CALL_GRANT_JWKS_URL)'),
      },
    ]);
    expect(
      await problems({
        ...grantEnv(),
        CALL_GRANT_JWKS_URL: 'https://orchestrator.internal/jwks.json',
      }),
    ).toEqual([
      { variable: 'CALL_GRANT_JWKS_URL', message: expect.stringContaining('one way only') },
    ]);
    expect(await problems({ CALL_GRANT_JWKS_FILE: '/nonexistent/jwks.json' })).toEqual([
      { variable: 'CALL_GRANT_JWKS_FILE', message: 'cannot read /nonexistent/jwks.json: ENOENT' },
    ]);
  });
});
