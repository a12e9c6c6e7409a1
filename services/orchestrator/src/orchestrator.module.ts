import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@toolbus/contracts';
import { policySteps, TokenBudget, ToolBreakers } from '@toolbus/policy';
import { RegistryView } from '@toolbus/registry-client';
import { CallGrantSigner } from '@toolbus/security';
import type { ServiceContext } from '@toolbus/service-kit';
import { createMemoryStore, createRedisStore, type StateStore } from '@toolbus/state';
import { AgentLoop } from './asks/agent-loop.js';
import { AskController } from './asks/ask.controller.js';
import { AskConsumer } from './asks/ask.consumer.js';
import { AskRecords } from './asks/ask-records.js';
import { AskService } from './asks/ask.service.js';
import { ConversationStore } from './asks/conversation-store.js';
import { busModelClient } from './asks/model-client.js';
import { tokenSpend } from './asks/token-spend.js';
import { AuditPublisher } from './audit/audit-publisher.js';
import { ToolCatalog } from './catalog/tool-catalog.js';
import { Dispatcher } from './calls/dispatcher.js';
import { grantIssuer } from './calls/grant-issuer.js';
import { CallGrantKeys, CallGrantKeysController } from './calls/grant-keys.controller.js';
import { isToolFailure, ToolCallsService } from './calls/tool-calls.service.js';
import type { OrchestratorConfig } from './config.js';
import { EdgeTrust } from './edge/edge-trust.js';
import { InvocationConsumer } from './invocations/invocation.consumer.js';
import { InvocationController } from './invocations/invocation.controller.js';
import { InvocationService } from './invocations/invocation.service.js';
import { ledgerModule } from './ledger/ledger.module.js';
import { tenantSettings } from './tenants/tenant-policies.js';
import { PgUsageLedger } from './usage/pg-usage-ledger.js';

/** The state store the orchestrator's parts share: the host's, Redis, or memory. */
export const STATE_STORE = Symbol.for('toolbus.orchestrator.state');

/** The store each started orchestrator uses, for its readiness check. */
export const storesOf = new WeakMap<object, StateStore>();

@Module({})
class OrchestratorModule {}

/**
 * The orchestrator's composition root. Its parts are built here, in order, from the service
 * context: the shared state, the catalog view (filled before the first ask is taken), the
 * call grant signer and the gateway's keys (both checked at start-up, so a bad key stops the
 * service naming it), the policy chain, the dispatcher, and the two ways in (asks and direct
 * invocations, each over the bus and internal HTTP).
 */
export async function orchestratorModule(
  context: ServiceContext<OrchestratorConfig>,
): Promise<DynamicModule> {
  const { config, bus, logger, onStop } = context;
  const store = stateStoreOf(context);
  storesOf.set(context, store);
  const view = await RegistryView.start({
    registryUrl: config.REGISTRY_URL,
    token: config.REGISTRY_TOKEN,
    bus,
    service: 'orchestrator',
    ...(config.REGISTRY_VIEW_INSTANCE ? { instance: config.REGISTRY_VIEW_INSTANCE } : {}),
    logger,
    snapshotTimeoutMs: config.REGISTRY_SNAPSHOT_TIMEOUT_MS,
    jwksUrl: config.REGISTRY_JWKS_URL,
    jwksFile: config.REGISTRY_JWKS_FILE,
  });
  onStop('catalog view', () => view.close());
  const signer = CallGrantSigner.fromFile({
    keyFile: config.CALL_GRANT_SIGNING_KEY_FILE,
    issuer: config.CALL_GRANT_ISSUER,
    ...(config.CALL_GRANT_KEY_ID ? { kid: config.CALL_GRANT_KEY_ID } : {}),
  });
  const grantKeys = new CallGrantKeys(signer, config.CALL_GRANT_VERIFICATION_KEYS_FILE);
  await grantKeys.check();
  const trust = EdgeTrust.fromConfig(config);
  await trust.check();
  // Answers to this instance's calls come back on its own reply partitions.
  await Promise.all([
    bus.prepareReplies(Topics.modelReplies),
    bus.prepareReplies(Topics.toolResponses),
  ]);

  const settingsOf = (tenant: string) => tenantSettings(config.TENANT_POLICIES, tenant);
  const catalog = new ToolCatalog(view);
  if (!context.db) throw new Error('the orchestrator needs its database (the usage ledger)');
  const budget = new TokenBudget({
    store,
    ledger: new PgUsageLedger(context.db),
    defaultAskTokenCap: config.ASK_TOKEN_CAP,
  });
  const audit = new AuditPublisher(bus, logger.child({ component: 'audit' }), {
    includeArguments: config.AUDIT_LEDGER_ARGUMENTS,
  });
  // Before the bus goes: the audit events of the last calls may still be on their way.
  onStop('audit publications', () => audit.drain());
  const tools = new ToolCallsService(
    catalog,
    policySteps({
      store,
      budget,
      defaultRateLimitPerMinute: config.TOOL_QUOTA_PER_MINUTE,
      maxInputBytes: config.MAX_TOOL_ARGUMENTS_BYTES,
    }),
    new ToolBreakers({
      store,
      failureRatio: config.BREAKER_FAILURE_RATIO / 100,
      windowMs: config.BREAKER_WINDOW_MS,
      minimumCalls: config.BREAKER_MIN_CALLS,
      halfOpenAfterMs: config.BREAKER_HALF_OPEN_MS,
      isFailure: isToolFailure,
      onCacheError: (error, tool) => logger.warn({ err: error, tool }, 'result cache write failed'),
    }),
    new Dispatcher(
      bus,
      grantIssuer(signer),
      { attempts: config.TOOL_CALL_ATTEMPTS, backoffMs: config.TOOL_CALL_BACKOFF_MS },
      logger.child({ component: 'dispatch' }),
    ),
    audit,
    logger.child({ component: 'tool-calls' }),
  );
  const records = new AskRecords(store, bus, logger, config.HISTORY_TTL_SECONDS * 1000);
  const conversation = new ConversationStore(store, {
    ttlMs: config.HISTORY_TTL_SECONDS * 1000,
    maxMessages: config.HISTORY_MAX_MESSAGES,
  });
  const model = busModelClient(bus);
  const spend = tokenSpend(budget, settingsOf);
  const loop = (progress: ReturnType<AskRecords['progressOf']>) =>
    new AgentLoop(
      {
        maxSteps: config.MAX_STEPS,
        maxOfferedTools: config.MAX_OFFERED_TOOLS,
        askTokenCap: config.ASK_TOKEN_CAP,
        maxTokensPerStep: config.ASK_MAX_TOKENS_PER_STEP,
      },
      catalog,
      model,
      tools,
      conversation,
      progress,
      spend,
      logger.child({ component: 'agent-loop' }),
    );
  const asks = new AskService(
    loop,
    records,
    trust,
    audit,
    settingsOf,
    config.ASK_DEFAULT_DEADLINE_MS,
    logger.child({ component: 'asks' }),
  );
  return {
    module: OrchestratorModule,
    imports: [await ledgerModule(context)],
    controllers: [
      AskConsumer,
      AskController,
      InvocationConsumer,
      InvocationController,
      CallGrantKeysController,
    ],
    providers: [
      { provide: AskService, useValue: asks },
      { provide: AskRecords, useValue: records },
      { provide: EdgeTrust, useValue: trust },
      { provide: CallGrantKeys, useValue: grantKeys },
      {
        provide: InvocationService,
        useValue: new InvocationService(tools, catalog, trust, settingsOf),
      },
      { provide: STATE_STORE, useValue: store },
    ],
  };
}

/** The host's store (the embedded platform), else Redis when configured, else memory. */
function stateStoreOf(context: ServiceContext<OrchestratorConfig>): StateStore {
  if (context.state) return context.state;
  const { config, logger, onStop } = context;
  const store = config.REDIS_URL
    ? createRedisStore({
        url: config.REDIS_URL,
        keyPrefix: config.REDIS_KEY_PREFIX,
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
        logger: logger.child({ component: 'state' }),
      })
    : createMemoryStore();
  onStop('state store', () => store.close());
  return store;
}
