import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Messages,
  platformTopics,
  RegistryPaths,
  Topics,
  type AskCompleted,
  type AskFailed,
  type AskRequested,
  type AuditEvent,
  type Principal,
  type RegisterToolRequest,
  type ToolInvocationAnswered,
} from '@toolbus/contracts';
import { createKafkaBus, type IncomingMessage, type MessageBus } from '@toolbus/messaging';
import { modelShimService } from '@toolbus/model-shim';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger, startTelemetry } from '@toolbus/observability';
import { openDatabase } from '@toolbus/persistence';
import { startRegistry, type RunningRegistry } from '@toolbus/registry';
import { CallGrantSigner, PrincipalAssertionSigner } from '@toolbus/security';
import { startService, type RunningService } from '@toolbus/service-kit';
import {
  freePort,
  infraFromEnv,
  issueToken,
  startFakeAnthropic,
  startServiceProcess,
  TEST_JWT_SECRET,
  uniqueName,
  waitFor,
  type FakeProvider,
  type ServiceProcess,
} from '@toolbus/testing';
import { crmService } from '@toolbus/crm-consumer';
import {
  askBinding,
  invocationBinding,
  orchestratorService,
  toolListBinding,
  type OrchestratorConfig,
} from '@toolbus/orchestrator';

export const logger = createLogger({
  name: 'orchestrator-test',
  level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
});

/** Every span of the services in this process, as a collector would receive them. */
export const spans = new InMemorySpanExporter();
startTelemetry({ serviceName: 'platform-suite', spanProcessors: [new SimpleSpanProcessor(spans)] });

const GATEWAY_KID = 'gateway-test-1';
const GRANT_KID = 'orchestrator-test-1';

/** Keys a deployment mounts: the orchestrator's grant key, the gateway's assertion keys. */
interface Keys {
  dir: string;
  grantKeyFile: string;
  gatewayJwksFile: string;
  gatewayKey: KeyObject;
}

function makeKeys(): Keys {
  const dir = mkdtempSync(join(tmpdir(), 'orchestrator-it-'));
  const grantKeyFile = join(dir, 'grant-key.pem');
  writeFileSync(
    grantKeyFile,
    generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    { mode: 0o600 },
  );
  const gateway = generateKeyPairSync('ed25519');
  const gatewayJwksFile = join(dir, 'gateway-jwks.json');
  const jwk = gateway.publicKey.export({ format: 'jwk' });
  writeFileSync(
    gatewayJwksFile,
    JSON.stringify({ keys: [{ ...jwk, kid: GATEWAY_KID, alg: 'EdDSA', use: 'sig' }] }),
  );
  return { dir, grantKeyFile, gatewayJwksFile, gatewayKey: gateway.privateKey };
}

export type AskAnswer = IncomingMessage<AskCompleted | AskFailed>;

/** The built orchestrator, as a deployment runs it (`test:integration` builds it first). */
const ORCHESTRATOR_MAIN = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'services',
  'orchestrator',
  'dist',
  'main.js',
);

/** A direct tool call's fields the assertion binds; a fresh idempotency key when none is given. */
export interface DirectCall {
  tool: string;
  toolVersion?: string;
  input: Record<string, unknown>;
  idempotencyKey?: string;
  deadline?: string;
}

/**
 * The platform of an ask, in this process on the real Kafka, PostgreSQL and Redis: the
 * registry (its own schema), the CRM consumer (its own schema, tools registered and approved
 * as a team would), the model shim in front of a fake Anthropic that speaks the real wire
 * format, and one or more orchestrators. The test plays the gateway: it signs principal
 * assertions with a key whose JWKS the orchestrators trust.
 */
export class TestPlatform {
  readonly tenant = uniqueName('acme')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 40);
  /**
   * This platform's Kafka namespace (`KAFKA_NAMESPACE` of each of its services): the Kafka is
   * shared with other runs and suites, and without it another platform's model shim would take
   * this one's model requests and answer from its own script.
   */
  readonly kafkaNamespace: string;
  readonly anthropic: FakeProvider;
  readonly registry: RunningRegistry;
  readonly crm: RunningService<unknown>;
  readonly modelShim: RunningService<unknown>;
  readonly orchestrators: Array<RunningService<OrchestratorConfig>> = [];
  /** Orchestrators started as processes ({@link startOrchestratorProcess}), stopped on close. */
  readonly processes: ServiceProcess[] = [];
  readonly client: MessageBus;
  /** Audit events of this platform's tenant, as the ledger receives them. */
  readonly audit: AuditEvent[] = [];
  private readonly assertions: PrincipalAssertionSigner;
  /** The audit ledger's variables, for every replica (`start({ ledger: true })`). */
  private ledgerEnv: Record<string, string> = {};
  /** The orchestrators' one database schema: replicas share the usage ledger, as in production. */
  readonly orchestratorSchema = uniqueName('orch').replace(/-/g, '_');

  private constructor(
    private readonly keys: Keys,
    private readonly schemas: string[],
    parts: {
      anthropic: FakeProvider;
      registry: RunningRegistry;
      crm: RunningService<unknown>;
      modelShim: RunningService<unknown>;
      client: MessageBus;
      kafkaNamespace: string;
    },
  ) {
    this.kafkaNamespace = parts.kafkaNamespace;
    this.anthropic = parts.anthropic;
    this.registry = parts.registry;
    this.crm = parts.crm;
    this.modelShim = parts.modelShim;
    this.client = parts.client;
    this.assertions = new PrincipalAssertionSigner({
      key: keys.gatewayKey,
      kid: GATEWAY_KID,
      issuer: 'toolbus-gateway',
      audience: 'toolbus-orchestrator',
    });
  }

  /**
   * `ledger`: the orchestrators keep the audit ledger (their own schema, a key in the keys'
   * folder, readers' tokens as `issueToken` signs them), read at `GET /v1/audit`.
   */
  static async start(options: { orchestratorEnv?: Record<string, string>; ledger?: boolean } = {}) {
    const { kafkaBrokers, databaseUrl } = infraFromEnv();
    const keys = makeKeys();
    const registrySchema = uniqueName('orch_registry').replace(/-/g, '_');
    const crmSchema = uniqueName('orch_crm').replace(/-/g, '_');
    const kafkaNamespace = `${uniqueName('platform')}.`;
    const kafka = { KAFKA_BROKERS: kafkaBrokers.join(','), KAFKA_NAMESPACE: kafkaNamespace };
    const anthropic = await startFakeAnthropic();
    const registry = (await startRegistry({
      env: {
        ...kafka,
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: registrySchema,
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        AUTH_ALLOW_SHARED_KEY: 'true',
        PORT: '0',
        MANAGEMENT_PORT: '0',
        LOG_LEVEL: 'silent',
        OUTBOX_POLL_MS: '100',
      },
      logger,
    }))!;
    const modelShim = (await startService(modelShimService, {
      env: {
        ...kafka,
        PORT: '0',
        MANAGEMENT_PORT: '0',
        LOG_LEVEL: 'silent',
        ANTHROPIC_API_KEY: 'sk-test',
        ANTHROPIC_BASE_URL: anthropic.url,
        MODEL_ROUTES: 'default=anthropic:claude-sonnet-4-5;demo=offline:planner',
        MODEL_RETRY_BASE_MS: '20',
      },
      logger,
    }))!;
    const client = createKafkaBus({
      serviceName: uniqueName('gateway-test'),
      brokers: kafkaBrokers,
      namespace: kafkaNamespace,
      logger,
    });
    // The namespace is new: its topics exist once a service or this client made them.
    await client.ensureTopics(platformTopics());
    await client.prepareReplies(Topics.askReplies);
    await client.prepareReplies(Topics.invokeReplies);
    const platform = new TestPlatform(keys, [registrySchema, crmSchema], {
      anthropic,
      registry,
      crm: undefined as unknown as RunningService<unknown>,
      modelShim,
      client,
      kafkaNamespace,
    });
    await client.subscribe(
      {
        topic: Topics.audit,
        groupId: uniqueName('ledger-probe'),
        fromBeginning: false,
        schema: Messages.auditRecorded.schema,
      },
      async (m: IncomingMessage<AuditEvent>) => {
        if (m.value.tenant === platform.tenant) platform.audit.push(m.value);
      },
    );
    platform.schemas.push(platform.orchestratorSchema);
    if (options.ledger) {
      const keysDir = join(keys.dir, 'audit-keys');
      mkdirSync(keysDir);
      writeFileSync(join(keysDir, 'k1'), randomBytes(32).toString('base64'), { mode: 0o600 });
      platform.ledgerEnv = {
        AUDIT_LEDGER_ENABLED: 'true',
        AUDIT_KEYS_DIR: keysDir,
        AUDIT_KEY_ID: 'k1',
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        AUTH_ALLOW_SHARED_KEY: 'true',
      };
    }
    // The orchestrator first: the CRM fetches the grant keys from it.
    await platform.addOrchestrator(options.orchestratorEnv);
    const crmPort = await freePort();
    const crm = (await startService(crmService, {
      env: {
        ...kafka,
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: crmSchema,
        PORT: String(crmPort),
        MANAGEMENT_PORT: '0',
        LOG_LEVEL: 'silent',
        TOOL_HTTP_URL: `http://127.0.0.1:${crmPort}`,
        REGISTRY_URL: registry.url,
        REGISTRY_TOKEN: await issueToken({
          sub: 'crm-service',
          kind: 'service',
          scopes: ['registry:write', 'registry:read'],
          teams: ['platform'],
        }),
        CALL_GRANT_JWKS_URL: `${platform.orchestrators[0]!.url}/.well-known/jwks.json`,
      },
      logger,
    }))!;
    (platform as { crm: RunningService<unknown> }).crm = crm;
    await platform.approveAll(['find_customer', 'get_credit_limit', 'update_credit_limit']);
    await platform.untilOffered(['find_customer', 'get_credit_limit']);
    return platform;
  }

  /** The Kafka variables of a service of this platform (its brokers and namespace). */
  kafkaEnv(): { KAFKA_BROKERS: string; KAFKA_NAMESPACE: string } {
    return {
      KAFKA_BROKERS: infraFromEnv().kafkaBrokers.join(','),
      KAFKA_NAMESPACE: this.kafkaNamespace,
    };
  }

  /** One more replica, on the same Redis and Kafka group as the others. */
  async addOrchestrator(
    env: Record<string, string> = {},
  ): Promise<RunningService<OrchestratorConfig>> {
    const orchestrator = (await startService(orchestratorService, {
      env: await this.orchestratorEnv(env),
      logger,
    })) as RunningService<OrchestratorConfig>;
    this.orchestrators.push(orchestrator);
    return orchestrator;
  }

  /** The environment of one more replica of this platform's orchestrator, `env` on top. */
  async orchestratorEnv(env: Record<string, string> = {}): Promise<Record<string, string>> {
    const { redisUrl, databaseUrl } = infraFromEnv();
    return {
      ...this.kafkaEnv(),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: this.orchestratorSchema,
      REDIS_URL: redisUrl,
      // One platform's counts and conversations, whatever else shares this Redis.
      REDIS_KEY_PREFIX: `${this.tenant}:`,
      // Replicas on one host: each its own catalog reader.
      REGISTRY_VIEW_INSTANCE: uniqueName('orchestrator'),
      PORT: '0',
      MANAGEMENT_PORT: '0',
      LOG_LEVEL: 'silent',
      REGISTRY_URL: this.registry.url,
      REGISTRY_TOKEN: await issueToken({
        sub: 'orchestrator',
        kind: 'service',
        scopes: ['registry:read', 'registry:catalog'],
      }),
      CALL_GRANT_SIGNING_KEY_FILE: this.keys.grantKeyFile,
      CALL_GRANT_KEY_ID: GRANT_KID,
      GATEWAY_JWKS_FILE: this.keys.gatewayJwksFile,
      TOOL_CALL_BACKOFF_MS: '20',
      ...this.ledgerEnv,
      ...env,
    };
  }

  /**
   * One more replica as its own process (`node dist/main.js`), ready. A test kills it abruptly
   * with `child.kill('SIGKILL')`: no drain, no offset commit, no goodbye to its groups, as a
   * crashed pod; `stop()` is the graceful SIGTERM.
   */
  async startOrchestratorProcess(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const {
      PORT: _port,
      MANAGEMENT_PORT: _management,
      ...rest
    } = await this.orchestratorEnv({ LOG_LEVEL: 'warn', ...env });
    const child = await startServiceProcess(ORCHESTRATOR_MAIN, rest);
    this.processes.push(child);
    await child.ready();
    return child;
  }

  /**
   * The public JWKS of the call grants as a file, for a consumer that must verify grants while
   * no orchestrator is up to serve `/.well-known/jwks.json` (one killed, the next starting).
   */
  callGrantJwksFile(): string {
    const file = join(this.keys.dir, 'grant-jwks.json');
    if (!existsSync(file)) {
      const jwk = createPublicKey(readFileSync(this.keys.grantKeyFile)).export({ format: 'jwk' });
      writeFileSync(
        file,
        JSON.stringify({ keys: [{ ...jwk, kid: GRANT_KID, alg: 'EdDSA', use: 'sig' }] }),
      );
    }
    return file;
  }

  /**
   * Approves every draft in the registry, as a reviewer who is not its author, once the drafts
   * hold every tool of `expected` (a consumer registers its tools one by one).
   */
  async approveAll(expected: string[] = []): Promise<void> {
    const reviewer = await issueToken({
      sub: 'reviewer',
      scopes: ['registry:approve', 'registry:read', 'registry:catalog'],
    });
    const drafts = await waitFor(
      async () => {
        const res = await fetch(`${this.registry.url}${RegistryPaths.tools}?status=draft`, {
          headers: { authorization: `Bearer ${reviewer}` },
        });
        const body = (await res.json()) as { items?: Array<{ name: string; version: string }> };
        const items = body.items ?? [];
        return items.length > 0 && expected.every((n) => items.some((t) => t.name === n))
          ? items
          : undefined;
      },
      { timeoutMs: 15_000, what: "the CRM's drafts" },
    );
    for (const draft of drafts) {
      const res = await fetch(
        `${this.registry.url}${RegistryPaths.lifecycle(draft.name, draft.version, 'approve')}`,
        { method: 'POST', headers: { authorization: `Bearer ${reviewer}` } },
      );
      if (res.status !== 200)
        throw new Error(`approving ${draft.name}: ${res.status} ${await res.text()}`);
    }
  }

  /** Registers and approves one more tool (e.g. a copy in another region). */
  async register(definition: RegisterToolRequest): Promise<void> {
    const author = await issueToken({
      sub: 'author',
      scopes: ['registry:write', 'registry:read'],
      teams: [definition.owner],
    });
    const res = await fetch(`${this.registry.url}${RegistryPaths.tools}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${author}`, 'content-type': 'application/json' },
      body: JSON.stringify(definition),
    });
    if (res.status >= 300) throw new Error(`registering ${definition.name}: ${await res.text()}`);
    await this.approveAll();
  }

  principal(over: Partial<Principal> = {}): Principal {
    return {
      subject: 'alice',
      kind: 'user',
      tenant: this.tenant,
      scopes: ['crm:read'],
      ...over,
    };
  }

  /** An ask as the gateway sends it: named, and its principal asserted for this very ask. */
  async askMessage(
    question: string,
    over: Partial<AskRequested> & { principal?: Principal } = {},
  ): Promise<AskRequested> {
    const ask = {
      contextId: uniqueName('ctx'),
      askId: uniqueName('ask'),
      question,
      model: 'default',
      requestedAt: new Date().toISOString(),
      ...over,
      principal: over.principal ?? this.principal(),
    } as AskRequested;
    return {
      ...ask,
      principalAssertion:
        over.principalAssertion ?? (await this.assertions.sign(ask.principal, askBinding(ask))),
    };
  }

  /** Sends an ask on `toolbus.ask.requests` and waits for its answer. */
  ask(message: AskRequested, timeoutMs = 30_000): Promise<AskAnswer> {
    return this.client.request<AskRequested, AskCompleted | AskFailed>(
      Topics.askRequests,
      { type: Messages.askRequested.type, key: message.contextId, value: message },
      { replyTopic: Topics.askReplies, timeoutMs },
    );
  }

  /** What `orchestrator` (default the first) lists for `principal` (the gateway's tools/list). */
  async listTools(
    principal: Principal = this.principal(),
    orchestrator: { url: string } = this.orchestrators[0]!,
  ): Promise<string[]> {
    const res = await fetch(`${orchestrator.url}/internal/v1/tools`, {
      headers: {
        'x-toolbus-principal-assertion': await this.assertions.sign(principal, toolListBinding()),
      },
    });
    if (res.status !== 200) throw new Error(`tools/list: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
  }

  /** Waits until every orchestrator (of `orchestrators`) offers `principal` the tools `names`. */
  async untilOffered(
    names: string[],
    principal: Principal = this.principal(),
    orchestrators: Array<{ url: string }> = this.orchestrators,
  ): Promise<void> {
    for (const orchestrator of orchestrators)
      await waitFor(
        async () => {
          const listed = await this.listTools(principal, orchestrator);
          return names.every((n) => listed.includes(n)) || undefined;
        },
        { timeoutMs: 15_000, what: `the orchestrator's catalog to hold ${names.join(', ')}` },
      );
  }

  /**
   * A direct call as the gateway posts it to `replica`'s internal route: the principal stated
   * in the body and asserted for this very call (`assert: false` leaves the assertion out).
   */
  async postInvocation(
    call: DirectCall,
    options: { principal?: Principal; replica?: number; assert?: boolean } = {},
  ): Promise<{ status: number; body: unknown; idempotencyKey: string }> {
    const principal = options.principal ?? this.principal();
    const keyed = { ...call, idempotencyKey: call.idempotencyKey ?? uniqueName('key') };
    const orchestrator = this.orchestrators[options.replica ?? 0]!;
    const res = await fetch(`${orchestrator.url}/internal/v1/tools/${call.tool}:invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...keyed,
        principal,
        ...(options.assert === false
          ? {}
          : { principalAssertion: await this.invocationAssertion(keyed, principal) }),
      }),
    });
    return { status: res.status, body: await res.json(), idempotencyKey: keyed.idempotencyKey };
  }

  /** {@link postInvocation}, answered (refusals are answers too); any other status throws. */
  async invoke(
    call: DirectCall,
    options: { principal?: Principal; replica?: number; assert?: boolean } = {},
  ): Promise<ToolInvocationAnswered> {
    const { status, body } = await this.postInvocation(call, options);
    if (status !== 200)
      throw new Error(`${call.tool}:invoke answered ${status}: ${JSON.stringify(body)}`);
    return body as ToolInvocationAnswered;
  }

  /** The audit event of `tool`'s call in the ask of `contextId`, once the probe received it. */
  auditedToolCall(
    contextId: string,
    tool: string,
    outcome?: AuditEvent['outcome'],
  ): Promise<AuditEvent> {
    return waitFor(
      () =>
        this.audit.find(
          (e) =>
            e.action === 'tool.call' &&
            e.contextId === contextId &&
            e.resource.id.startsWith(tool) &&
            (outcome === undefined || e.outcome === outcome),
        ),
      { timeoutMs: 15_000, what: `the audit of ${tool}'s call` },
    );
  }

  /** The assertion header of a direct invocation over internal HTTP. */
  async invocationAssertion(
    call: { tool: string; toolVersion?: string; input: unknown; idempotencyKey?: string },
    principal: Principal = this.principal(),
  ): Promise<string> {
    return this.assertions.sign(principal, invocationBinding(call));
  }

  /**
   * A signer of call grants with the orchestrators' own key, for a caller that plays the
   * dispatcher (the benchmark's direct calls to a consumer, the baseline of the platform's).
   */
  grantSigner(): CallGrantSigner {
    return CallGrantSigner.fromFile({
      keyFile: this.keys.grantKeyFile,
      kid: GRANT_KID,
      issuer: 'toolbus-orchestrator',
    });
  }

  async close(): Promise<void> {
    await this.client.close(2_000).catch(() => undefined);
    for (const o of this.orchestrators) await o.close().catch(() => undefined);
    for (const p of this.processes) await p.stop().catch(() => undefined);
    await this.crm?.close().catch(() => undefined);
    await this.modelShim.close().catch(() => undefined);
    await this.registry.close().catch(() => undefined);
    await this.anthropic.close();
    const { databaseUrl } = infraFromEnv();
    const db = await openDatabase({ url: databaseUrl, schema: 'public', migrations: [] });
    for (const schema of this.schemas) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.destroy();
    rmSync(this.keys.dir, { recursive: true, force: true });
  }
}
