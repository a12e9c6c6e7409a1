import { RegistryPaths, type ToolPage } from '@toolbus/contracts';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import { grantEnv } from '@toolbus/testing-bus';
import { defineTool, runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { client, logger, startTestRegistry, type Client, type TestRegistry } from './support.js';

describe('tool consumers register their tools with the registry at start-up', () => {
  let t: TestRegistry;
  let consumer: RunningToolConsumer | undefined;
  let reviewer: Client;
  const service = uniqueName('sdk-reg');
  const toolName = service.replace(/-/g, '_');

  beforeAll(async () => {
    t = await startTestRegistry();
    reviewer = await client(t.url, 'reviewer', [
      'registry:read',
      'registry:write',
      'registry:approve',
      'crm:read',
    ]);
  });
  afterAll(async () => {
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${service.replace(/-/g, '_')}" CASCADE`);
    await consumer?.close();
    await t?.close();
  });

  it('creates a draft through PUT with the service token, and refuses without one', async () => {
    const tool = defineTool({
      name: toolName,
      title: 'Ping',
      description: 'Answers pong; proves the registration path.',
      input: z.object({ text: z.string().describe('What to echo') }),
      output: z.object({ echo: z.string() }),
      scopes: ['crm:read'],
      handler: async ({ text }) => ({ echo: text }),
    });
    const serviceToken = (
      await client(t.url, 'svc-sdk', ['registry:write'], { teams: ['team-sdk'] })
    ).token;
    const { kafkaBrokers, databaseUrl } = infraFromEnv();
    consumer = await runToolConsumer(
      {
        service,
        tools: [tool],
        version: '1.4.0',
      },
      {
        env: {
          KAFKA_BROKERS: kafkaBrokers.join(','),
          DATABASE_URL: databaseUrl,
          PORT: '0',
          MANAGEMENT_PORT: '0',
          LOG_LEVEL: 'silent',
          REGISTRY_URL: t.url,
          REGISTRY_TOKEN: serviceToken,
          TOOL_OWNER: 'team-sdk',
          ...grantEnv(),
        },
        logger,
      },
    );
    const drafts = await waitFor(
      async () => {
        const page = await reviewer.get<ToolPage>(
          `${RegistryPaths.tools}?status=draft&q=${toolName}`,
        );
        return page.body.items.length ? page.body.items : undefined;
      },
      { what: 'the registered draft' },
    );
    expect(drafts[0]).toMatchObject({
      name: toolName,
      version: '1.4.0',
      status: 'draft',
      author: 'svc-sdk',
      owner: 'team-sdk',
      scopes: ['crm:read'],
      transport: { kind: 'kafka', topic: `tool_requests.${service}` },
    });
    expect(drafts[0]!.inputSchema).toMatchObject({ type: 'object', required: ['text'] });

    const anonymous = await fetch(new URL(RegistryPaths.toolVersion(toolName, '9.9.9'), t.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(consumer.definitions[0]),
    });
    expect(anonymous.status).toBe(401);
  });
});
