import {
  Messages,
  RegisterToolRequest,
  RegistryPaths,
  type AskCompleted,
  type Principal,
} from '@toolbus/contracts';
import { crmService } from '@toolbus/crm-consumer';
import { openDatabase } from '@toolbus/persistence';
import { startService, type RunningService } from '@toolbus/service-kit';
import { freePort, infraFromEnv, issueToken, uniqueName } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, TestPlatform } from './platform.js';

/** The version served in the US: newer than the EU one, so "the newest" alone would pick it. */
const US_VERSION = '9.0.0';

/**
 * Residency: the platform's tenant may have its data processed only in the EU, another tenant
 * only in the US. The registry holds `get_credit_limit` in both regions (the CRM in the EU, a
 * second CRM consumer with its own database in the US, a newer version), and a tool only in
 * the US. Which CRM ran a call is read from its own dedup table.
 */
describe('scope and residency', () => {
  const usTenant = uniqueName('globex')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 40);
  const usSchema = uniqueName('orch_crm_us').replace(/-/g, '_');
  let platform: TestPlatform;
  let crmUs: RunningService<unknown>;
  let euVersion: string;

  const usPrincipal = (): Principal => platform.principal({ subject: 'bob', tenant: usTenant });
  /** Calls each CRM has recorded (one dedup row per call it ran). */
  const ran = async (crm: RunningService<unknown>) =>
    (
      (await crm.db!.query(
        `SELECT count(*)::int AS n FROM tool_call_dedup WHERE tool = 'get_credit_limit'`,
      )) as Array<{ n: number }>
    )[0]!.n;
  const runs = async () => ({ eu: await ran(platform.crm), us: await ran(crmUs) });

  /** The model asks for `tool` once, then answers with what it got. */
  const scriptOneCall = (tool: string) =>
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0,
        reply: { toolCalls: [{ name: tool, input: { customer_id: 'cus_001' } }] },
      },
      {
        when: (req) => req.toolResults.length > 0,
        reply: (req) => ({ text: `Result: ${req.toolResults[0]!.content}` }),
      },
    ]);

  beforeAll(async () => {
    platform = await TestPlatform.start({
      orchestratorEnv: {
        TENANT_POLICIES: JSON.stringify({
          '*': { allowedRegions: ['eu'] },
          [usTenant]: { allowedRegions: ['us'] },
        }),
      },
    });
    // The CRM in the US: its own database and consumer group (so it takes none of the EU CRM's
    // calls over Kafka); registered below, not by itself.
    const { databaseUrl } = infraFromEnv();
    const port = await freePort();
    crmUs = (await startService(
      { ...crmService, name: uniqueName('crm-us') },
      {
        env: {
          ...platform.kafkaEnv(),
          DATABASE_URL: databaseUrl,
          DATABASE_SCHEMA: usSchema,
          PORT: String(port),
          MANAGEMENT_PORT: '0',
          LOG_LEVEL: 'silent',
          TOOL_REGION: 'us',
          CALL_GRANT_JWKS_URL: `${platform.orchestrators[0]!.url}/.well-known/jwks.json`,
        },
        logger,
      },
    ))!;
    const reader = await issueToken({
      sub: 'reader',
      scopes: ['registry:read', 'registry:catalog'],
    });
    const served = (await (
      await fetch(`${platform.registry.url}${RegistryPaths.tool('get_credit_limit')}`, {
        headers: { authorization: `Bearer ${reader}` },
      })
    ).json()) as Record<string, unknown>;
    const eu = RegisterToolRequest.parse(served);
    euVersion = eu.version;
    expect(eu.region).toBe('eu');
    await platform.register({
      ...eu,
      version: US_VERSION,
      region: 'us',
      transport: { kind: 'http', url: `http://127.0.0.1:${port}`, service: 'crm' },
    });
    // A tool held only in the US.
    await platform.register({
      ...eu,
      name: 'get_credit_report',
      title: 'Get a credit report',
      description: 'Returns the credit report of a customer from the US credit bureau.',
      version: '1.0.0',
      region: 'us',
      transport: { kind: 'http', url: `http://127.0.0.1:${port}`, service: 'crm' },
    });
    await platform.untilOffered(['get_credit_limit', 'get_credit_report'], usPrincipal());
  }, 180_000);

  afterAll(async () => {
    await crmUs?.close().catch(() => undefined);
    await platform?.close();
    const db = await openDatabase({
      url: infraFromEnv().databaseUrl,
      schema: 'public',
      migrations: [],
    });
    await db.query(`DROP SCHEMA IF EXISTS "${usSchema}" CASCADE`);
    await db.destroy();
  });

  it('offers each tenant only the tools of its regions', async () => {
    expect(await platform.listTools()).not.toContain('get_credit_report');
    expect(await platform.listTools(usPrincipal())).toContain('get_credit_report');
  });

  it('refuses and audits a model asking for a tool held only outside the tenant’s regions', async () => {
    scriptOneCall('get_credit_report');
    const message = await platform.askMessage('Get the credit report of Acme Corp');
    const reply = await platform.ask(message);
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;
    expect(completed.toolCalls).toEqual([
      expect.objectContaining({
        tool: 'get_credit_report',
        outcome: 'refused',
        code: 'region_not_allowed',
      }),
    ]);
    // The model read why, and answered with it.
    expect(completed.answer).toMatch(/region_not_allowed|processes data in us/);
    const audited = await platform.auditedToolCall(message.contextId, 'get_credit_report');
    expect(audited).toMatchObject({
      outcome: 'denied',
      details: { decision: 'refused', step: 'residency', code: 'region_not_allowed' },
    });
    expect(audited.reason).toMatch(/processes data in us.*eu/);

    // A direct call is refused the same way.
    const direct = await platform.invoke({
      tool: 'get_credit_report',
      input: { customer_id: 'cus_001' },
    });
    expect(direct).toMatchObject({
      outcome: 'refused',
      error: { class: 'forbidden', code: 'region_not_allowed' },
    });
  });

  it('routes a tool held in two regions to the allowed one, for a direct call and an ask', async () => {
    // The EU tenant: the older EU version, on the EU CRM, though a newer one is served.
    let before = await runs();
    const euDirect = await platform.invoke({
      tool: 'get_credit_limit',
      input: { customer_id: 'cus_001' },
    });
    expect(euDirect).toMatchObject({
      outcome: 'succeeded',
      toolVersion: euVersion,
      output: { credit_limit: 50_000 },
    });
    expect(await runs()).toEqual({ eu: before.eu + 1, us: before.us });

    before = await runs();
    scriptOneCall('get_credit_limit');
    const euAsk = await platform.ask(
      await platform.askMessage('What is the credit limit for Acme Corp?'),
    );
    expect((euAsk.value as AskCompleted).toolCalls).toEqual([
      expect.objectContaining({
        tool: 'get_credit_limit',
        outcome: 'succeeded',
        toolVersion: euVersion,
      }),
    ]);
    expect(await runs()).toEqual({ eu: before.eu + 1, us: before.us });

    // The US tenant: the US version, on the US CRM.
    before = await runs();
    const usDirect = await platform.invoke(
      { tool: 'get_credit_limit', input: { customer_id: 'cus_001' } },
      { principal: usPrincipal() },
    );
    expect(usDirect).toMatchObject({ outcome: 'succeeded', toolVersion: US_VERSION });
    expect(await runs()).toEqual({ eu: before.eu, us: before.us + 1 });

    before = await runs();
    scriptOneCall('get_credit_limit');
    const usAsk = await platform.ask(
      await platform.askMessage('What is the credit limit for Acme Corp?', {
        principal: usPrincipal(),
      }),
    );
    expect((usAsk.value as AskCompleted).toolCalls, JSON.stringify(usAsk.value)).toEqual([
      expect.objectContaining({
        tool: 'get_credit_limit',
        outcome: 'succeeded',
        toolVersion: US_VERSION,
      }),
    ]);
    expect(await runs()).toEqual({ eu: before.eu, us: before.us + 1 });

    // Naming the version of the other region is refused, not run there.
    before = await runs();
    const pinned = await platform.invoke({
      tool: 'get_credit_limit',
      toolVersion: US_VERSION,
      input: { customer_id: 'cus_001' },
    });
    expect(pinned).toMatchObject({ outcome: 'refused', error: { code: 'region_not_allowed' } });
    expect(await runs()).toEqual(before);
  });
});
