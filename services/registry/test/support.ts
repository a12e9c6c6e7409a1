import type { RegisterToolRequest } from '@toolbus/contracts';
import { createKafkaBus, type MessageBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, issueToken, TEST_JWT_SECRET, uniqueName } from '@toolbus/testing';
import { startRegistry, type RunningRegistry } from '../src/registry.service.js';

export const logger = createLogger({
  name: 'registry-test',
  level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
});

export interface TestRegistry {
  registry: RunningRegistry;
  url: string;
  schema: string;
  /** A second bus, as another service would have. */
  reader: MessageBus;
  close(): Promise<void>;
}

/** Where the test fixtures' secrets may go: the APIs their imports and upstreams name. */
export const TEST_CREDENTIAL_ORIGINS = {
  'crm-api-credentials': [
    'https://acme.crm.example.com',
    'https://billing.example.com',
    'https://support.example.com',
  ],
};

/** The registry in this process on the real PostgreSQL (its own schema) and Kafka. */
export async function startTestRegistry(env: Record<string, string> = {}): Promise<TestRegistry> {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('registry_it').replace(/-/g, '_');
  const registry = (await startRegistry({
    env: {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_ALLOW_SHARED_KEY: 'true',
      CREDENTIAL_ORIGINS: JSON.stringify(TEST_CREDENTIAL_ORIGINS),
      PORT: '0',
      MANAGEMENT_PORT: '0',
      LOG_LEVEL: 'silent',
      OUTBOX_POLL_MS: '200',
      ...env,
    },
    logger,
  }))!;
  const reader = createKafkaBus({
    serviceName: uniqueName('registry-reader'),
    brokers: kafkaBrokers,
    logger,
  });
  return {
    registry,
    url: registry.url,
    schema,
    reader,
    close: async () => {
      await reader.close(2_000);
      await registry.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await registry.close();
    },
  };
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A caller of the registry API with a token for `sub` holding `scopes` (and `teams`). */
export async function client(
  url: string,
  sub: string,
  scopes: string[],
  extra: {
    regions?: string[];
    tenant?: string;
    teams?: string[];
    kind?: 'user' | 'service' | 'api_key';
  } = {},
) {
  const token = await issueToken({ sub, scopes, ...extra });
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> => {
    const response = await fetch(new URL(path, url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : undefined) as T,
    };
  };
  return {
    token,
    get: <T = Record<string, unknown>>(path: string, headers?: Record<string, string>) =>
      call<T>('GET', path, undefined, headers),
    put: <T = Record<string, unknown>>(path: string, body: unknown) => call<T>('PUT', path, body),
    post: <T = Record<string, unknown>>(path: string, body?: unknown) =>
      call<T>('POST', path, body ?? {}),
    delete: <T = Record<string, unknown>>(path: string) => call<T>('DELETE', path),
  };
}

export type Client = Awaited<ReturnType<typeof client>>;

/** A valid definition; tests change one thing at a time. */
export function definition(
  name: string,
  overrides: Partial<RegisterToolRequest> = {},
): RegisterToolRequest {
  return {
    name,
    version: '1.0.0',
    title: 'Get credit limit',
    description: 'Returns the credit limit of a customer account, in its currency.',
    inputSchema: {
      type: 'object',
      properties: { customer_id: { type: 'string', pattern: '^cus_[0-9]+$' } },
      required: ['customer_id'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { limit: { type: 'number' }, currency: { type: 'string' } },
      required: ['limit', 'currency'],
    },
    annotations: {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
    owner: 'team-crm',
    scopes: ['crm:read'],
    rateLimitPerMinute: 600,
    timeoutMs: 2000,
    cacheTtlSeconds: 30,
    transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    sync: false,
    region: 'eu',
    tags: ['crm', 'finance'],
    ...overrides,
  };
}
