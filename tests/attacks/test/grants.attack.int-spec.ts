import { generateKeyPairSync } from 'node:crypto';
import type { Principal, SafeError, ToolCallRequested } from '@toolbus/contracts';
import { crmMigrations, crmOwnConfig, crmTools } from '@toolbus/crm-consumer';
import { createLogger } from '@toolbus/observability';
import { CallGrantSigner } from '@toolbus/security';
import { completedOf, failureOf, toolCall, uniqueName } from '@toolbus/testing';
import {
  consumerTestEnv,
  signTestGrant,
  startToolCaller,
  TEST_GRANT_ISSUER,
  TEST_GRANT_KID,
  type ToolCaller,
} from '@toolbus/testing-bus';
import { runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The attacker controls one pod inside the cluster: it can write to `tool_requests.<service>`
 * and reach `POST /tools/<name>:invoke`, and it can read what passes on the bus (other calls
 * and their grants). It cannot sign with the orchestrator's key. Every attack goes against the
 * real CRM consumer (its tools, migrations and config, under a name of this run) over Kafka and
 * over HTTP, and each must be refused with its code, run nothing (no history row, no limit
 * changed, no dedup record), and leave the legitimate calls around it answered.
 */
describe('attacks on call grants: the CRM consumer (real Kafka and PostgreSQL)', () => {
  const service = uniqueName('crm-attack')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 30);
  const schema = service.replace(/-/g, '_');
  const logger = createLogger({
    name: 'grant-attacks',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service,
        tools: crmTools({ CRM_MAX_CREDIT_LIMIT: 10_000_000 }),
        migrations: crmMigrations,
        config: crmOwnConfig,
      },
      { env: consumerTestEnv(schema), logger },
    );
    caller = await startToolCaller({ logger, name: 'grant-attacker' });
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await consumer?.close();
  });

  const alice: Principal = {
    subject: 'alice@acme.example',
    kind: 'user',
    tenant: 'acme',
    scopes: ['crm:read', 'crm:write'],
  };
  const update = (
    account: string,
    limit: number,
    options: { key?: string; principal?: Principal; deadlineMs?: number } = {},
  ): ToolCallRequested =>
    toolCall(
      'update_credit_limit',
      { customer_id: account, new_limit: limit, reason: 'attack suite review' },
      { principal: alice, deadlineMs: 20_000, ...options },
    );

  const overKafka = async (call: ToolCallRequested, grant: string | undefined) =>
    caller.call(service, { ...call, grant }, { unsigned: true, timeoutMs: 30_000 });
  const overHttp = async (call: ToolCallRequested, grant: string | undefined) => {
    const { tool, deadline, grant: _inBody, ...body } = call;
    const response = await fetch(`${consumer.url}/tools/${tool}:invoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-toolbus-deadline': deadline,
        ...(grant ? { authorization: `Bearer ${grant}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      problem: (await response.json()) as { error?: SafeError; status?: number },
    };
  };
  const limitOf = async (account: string) =>
    (
      (await consumer.db.query('SELECT credit_limit FROM accounts WHERE id = $1', [
        account,
      ])) as Array<{ credit_limit: string }>
    )[0]!.credit_limit;
  const historyFor = async (key: string) =>
    (await consumer.db.query(
      'SELECT tenant, changed_by, new_value FROM account_history WHERE idempotency_key = $1 ORDER BY id',
      [key],
    )) as Array<{ tenant: string; changed_by: string; new_value: string }>;
  const dedupFor = async (key: string) =>
    (await consumer.db.query(
      'SELECT tenant, lease_until FROM tool_call_dedup WHERE idempotency_key = $1',
      [key],
    )) as Array<{ tenant: string; lease_until: Date }>;

  /**
   * Sends the attack over Kafka and over HTTP: refused with `code` (and `status` over HTTP),
   * the CRM tables and the dedup table untouched.
   */
  const refusedBoth = async (
    attack: ToolCallRequested,
    grant: string | undefined,
    code: string,
    status: number,
  ): Promise<SafeError> => {
    const account = attack.input['customer_id'] as string;
    const before = await limitOf(account);
    const kafka = failureOf(await overKafka(attack, grant));
    expect(kafka).toMatchObject({ class: 'forbidden', code, retryable: false });
    const http = await overHttp(attack, grant);
    expect(http.status, JSON.stringify(http.problem)).toBe(status);
    expect(http.problem.error).toEqual(kafka);
    expect(await historyFor(attack.idempotencyKey), 'a history row was written').toEqual([]);
    expect(await limitOf(account), 'the limit changed').toBe(before);
    expect(await dedupFor(attack.idempotencyKey), 'a dedup record was written').toEqual([]);
    return kafka;
  };
  /** A legitimate call, granted by the orchestrator: still answered, over both transports. */
  const legitimate = async (account: string, limit: number) => {
    const viaKafka = update(account, limit);
    expect(completedOf(await caller.call(service, viaKafka))).toMatchObject({
      deduplicated: false,
      output: { customer_id: account, new_limit: limit },
    });
    const viaHttp = update(account, limit + 1);
    const answer = await overHttp(viaHttp, await signTestGrant(service, viaHttp));
    expect(answer.status, JSON.stringify(answer.problem)).toBe(200);
    expect(await historyFor(viaHttp.idempotencyKey)).toEqual([
      { tenant: 'acme', changed_by: alice.subject, new_value: `${limit + 1}.00` },
    ]);
  };

  it('a forged grant (another key claiming the trusted kid), or none, is refused', async () => {
    await legitimate('cus_002', 61_000);
    const forger = new CallGrantSigner({
      key: generateKeyPairSync('ed25519').privateKey,
      kid: TEST_GRANT_KID,
      issuer: TEST_GRANT_ISSUER,
    });
    const attack = update('cus_002', 9_000_000);
    expect(
      await refusedBoth(attack, await forger.sign(attack, service), 'grant_invalid', 401),
    ).toEqual({
      class: 'forbidden',
      code: 'grant_invalid',
      message: 'the call grant is not signed by a key this service trusts',
      retryable: false,
    });
    await refusedBoth(update('cus_002', 9_000_000), undefined, 'grant_missing', 401);
    await legitimate('cus_002', 62_000);
  });

  it('a replayed grant (read off the bus) is refused for another input, key or tool', async () => {
    const original = update('cus_003', 70_000);
    const grant = await signTestGrant(service, original);
    expect(completedOf(await overKafka(original, grant))).toMatchObject({ deduplicated: false });
    // The same grant for a bigger limit, under the same key or a fresh one, or another tool.
    const otherInput = { ...original, input: { ...original.input, new_limit: 9_000_000 } };
    expect(
      (
        await refusedBoth(
          { ...otherInput, idempotencyKey: uniqueName('key') },
          grant,
          'grant_idempotency_key',
          403,
        )
      ).message,
    ).toBe('the call grant was signed for another idempotency key');
    const account = 'cus_003';
    const before = await limitOf(account);
    expect(failureOf(await overKafka(otherInput, grant))).toMatchObject({ code: 'grant_input' });
    expect((await overHttp(otherInput, grant)).status).toBe(403);
    expect(await historyFor(original.idempotencyKey)).toHaveLength(1); // the original's only
    expect(await limitOf(account)).toBe(before);
    const otherTool = { ...original, tool: 'get_credit_limit', input: { customer_id: 'cus_003' } };
    const tool = failureOf(await overKafka(otherTool, grant));
    expect(tool).toMatchObject({
      code: 'grant_tool',
      message: 'the call grant is for tool "update_credit_limit", not "get_credit_limit"',
    });
    expect((await overHttp(otherTool, grant)).status).toBe(403);
    // Replayed for the very same call it only repeats the stored answer: nothing runs again.
    expect(completedOf(await overKafka(original, grant))).toMatchObject({ deduplicated: true });
    await legitimate('cus_003', 71_000);
  });

  it('an expired grant is refused, whatever deadline the body claims', async () => {
    const attack = update('cus_004', 9_000_000);
    const stale = await signTestGrant(service, {
      ...attack,
      deadline: new Date(Date.now() - 60_000).toISOString(),
    });
    const refused = await refusedBoth(attack, stale, 'grant_expired', 401);
    expect(refused.message).toMatch(/^the call grant expired at \d{4}-\d\d-\d\dT/);
    await legitimate('cus_004', 63_000);
  });

  it('a grant for another service (erp) is refused by the CRM', async () => {
    const attack = update('cus_006', 9_000_000);
    expect(
      (await refusedBoth(attack, await signTestGrant('erp', attack), 'grant_audience', 403))
        .message,
    ).toBe(`the call grant is for another service, not "${service}"`);
    await legitimate('cus_006', 64_000);
  });

  it('a grant with too few scopes is refused, and so is a body claiming more than its grant', async () => {
    const reader = { ...alice, scopes: ['crm:read'] };
    const attack = update('cus_007', 9_000_000, { principal: reader });
    expect(
      (await refusedBoth(attack, await signTestGrant(service, attack), 'grant_scope', 403)).message,
    ).toBe('the call grant lacks the scopes update_credit_limit needs: crm:write');
    // The reader's genuine grant, with a body that claims crm:write and another subject.
    const escalated = { ...attack, principal: { ...alice, subject: 'cfo@acme.example' } };
    expect(
      (await refusedBoth(escalated, await signTestGrant(service, attack), 'grant_mismatch', 403))
        .message,
    ).toBe("the call's principal, scopes differ from its call grant's");
    await legitimate('cus_007', 65_000);
  });

  it("tenant B reusing tenant A's idempotency key gets its own execution, never A's result", async () => {
    const key = uniqueName('shared-key');
    const a = completedOf(await caller.call(service, update('cus_008', 66_000, { key })));
    const bob: Principal = { ...alice, subject: 'bob@globex.example', tenant: 'globex' };
    const b = completedOf(
      await caller.call(service, update('cus_008', 66_000, { key, principal: bob })),
    );
    expect(b.deduplicated).toBe(false);
    expect((b.output as { history_id: number }).history_id).not.toBe(
      (a.output as { history_id: number }).history_id,
    );
    expect(await historyFor(key)).toEqual([
      { tenant: 'acme', changed_by: alice.subject, new_value: '66000.00' },
      { tenant: 'globex', changed_by: bob.subject, new_value: '66000.00' },
    ]);
    expect((await dedupFor(key)).map((r) => r.tenant).sort()).toEqual(['acme', 'globex']);
    // Over HTTP too, and A's own repeat still gets A's result.
    const viaHttp = update('cus_008', 66_000, { key, principal: { ...bob, tenant: 'initech' } });
    const http = await overHttp(viaHttp, await signTestGrant(service, viaHttp));
    expect(http.status).toBe(200);
    expect(http.problem).toMatchObject({ deduplicated: false });
    expect(
      completedOf(await caller.call(service, update('cus_008', 66_000, { key }))),
    ).toMatchObject({
      deduplicated: true,
      output: a.output,
    });
  });

  it('a far-future deadline is capped at the tool timeout plus grace: no lease held for hours', async () => {
    const sent = Date.now();
    const day = 24 * 3_600_000;
    const viaKafka = update('cus_009', 67_000, { deadlineMs: day });
    completedOf(await caller.call(service, viaKafka));
    const viaHttp = update('cus_009', 68_000, { deadlineMs: day });
    expect((await overHttp(viaHttp, await signTestGrant(service, viaHttp))).status).toBe(200);
    // update_credit_limit's timeout (5 s) + grace (1 s) + the lease's grace (5 s), not a day.
    for (const call of [viaKafka, viaHttp]) {
      const [row] = await dedupFor(call.idempotencyKey);
      expect(new Date(row!.lease_until).getTime()).toBeLessThan(sent + 30_000);
    }
    await legitimate('cus_009', 69_000);
  });
});
