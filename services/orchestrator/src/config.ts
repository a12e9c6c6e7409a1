import {
  commonConfig,
  env,
  loadConfig,
  type ConfigOf,
  type ConfigSpec,
} from '@toolbus/service-kit';
import { registryViewConfig } from '@toolbus/registry-client';
import { ledgerConfig } from './ledger/ledger.config.js';
import { TenantPolicies } from './tenants/tenant-policies.js';

/** Every variable of the orchestrator but the audit ledger's (`ledgerConfig`). */
export const orchestratorOwnConfig = {
  DATABASE_URL: {
    schema: env.string(),
    secret: true,
    default: 'pglite://memory',
    description: 'The audit ledger and usage ledger: postgres://… or pglite://memory (embedded)',
  },
  DATABASE_SCHEMA: {
    schema: env.string(),
    default: 'orchestrator',
    description: 'PostgreSQL schema of the orchestrator',
  },
  REDIS_URL: {
    schema: env.optional(env.url()),
    secret: true,
    description:
      'Shared state (conversations, quotas, budgets, result cache, ask records) of every replica; unset keeps it in memory (embedded mode, one process)',
  },
  REDIS_KEY_PREFIX: {
    schema: env.string(),
    default: 'toolbus:',
    description:
      'Prefix of every key the orchestrator keeps in Redis, so that platforms (or test runs) sharing one Redis never share counts',
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    schema: env.int(10, 60_000),
    default: '250',
    description:
      'Longest wait for one Redis command; past it quotas and budgets fail closed with a clear error',
  },
  ...registryViewConfig,
  REGISTRY_VIEW_INSTANCE: {
    schema: env.optional(env.string()),
    description:
      "Names this replica's catalog reader (consumer group `orchestrator.registry-view.<instance>`); default the host name (the pod's). Set it when several replicas share one host, or they split the catalog's partitions",
  },
  REGISTRY_TOKEN: {
    schema: env.optional(env.string()),
    secret: true,
    description:
      'Bearer token (scopes registry:read and registry:catalog) the orchestrator reads the whole catalog with',
  },
  CALL_GRANT_SIGNING_KEY_FILE: {
    schema: env.string(),
    description:
      'Ed25519 private key (PKCS#8 PEM or JWK) that signs the call grant of every dispatched call; a mounted Secret',
  },
  CALL_GRANT_KEY_ID: {
    schema: env.optional(env.string()),
    description:
      "`kid` of the signing key, as the consumers' JWKS names it (default the JWK's own kid)",
  },
  CALL_GRANT_VERIFICATION_KEYS_FILE: {
    schema: env.optional(env.string()),
    description:
      'A JWKS of extra public keys served beside the signing key at /.well-known/jwks.json (the next and the previous key during a rotation)',
  },
  CALL_GRANT_ISSUER: {
    schema: env.string(),
    default: 'toolbus-orchestrator',
    description: '`iss` of the call grants; the consumers expect it',
  },
  GATEWAY_JWKS_FILE: {
    schema: env.optional(env.string()),
    description:
      "The gateway's principal assertion keys, a JWKS file (re-read when it changes); this or GATEWAY_JWKS_URL is required",
  },
  GATEWAY_JWKS_URL: {
    schema: env.optional(env.url()),
    description:
      "The gateway's principal assertion keys at a JWKS URL (cached, refetched on an unknown kid)",
  },
  GATEWAY_ISSUER: {
    schema: env.string(),
    default: 'toolbus-gateway',
    description: '`iss` of the principal assertions the gateway signs',
  },
  ORCHESTRATOR_AUDIENCE: {
    schema: env.string(),
    default: 'toolbus-orchestrator',
    description: '`aud` the principal assertions must carry',
  },
  MAX_OFFERED_TOOLS: {
    schema: env.int(1, 256),
    default: '32',
    description:
      'Tools offered to the model in one ask, the most relevant to the question; find_tools finds the rest',
  },
  MAX_STEPS: {
    schema: env.int(1, 64),
    default: '8',
    description: 'Model calls one ask may make before it stops without a final answer',
  },
  ASK_TOKEN_CAP: {
    schema: env.int(1, 10_000_000),
    default: '2000',
    description:
      'Tokens one ask may use (input and output), unless the tenant policy says otherwise',
  },
  ASK_MAX_TOKENS_PER_STEP: {
    schema: env.int(1, 1_000_000),
    default: '1024',
    description: 'The largest answer asked of the model in one step',
  },
  ASK_DEFAULT_DEADLINE_MS: {
    schema: env.int(100, 3_600_000),
    default: '60000',
    description: 'Deadline of an ask that names none',
  },
  ASK_CONCURRENCY: {
    schema: env.int(1, 1024),
    default: '32',
    description: 'Asks one instance runs at once (each waits on the model most of the time)',
  },
  INVOKE_CONCURRENCY: {
    schema: env.int(1, 4096),
    default: '128',
    description: 'Direct tool invocations from the bus one instance runs at once',
  },
  TENANT_POLICIES: {
    schema: env.json(TenantPolicies),
    default: '{}',
    description:
      'JSON policies by tenant (`*` for the rest): allowedRegions, askTokenCap, monthlyTokenBudget, monthlyUsdBudget, rateLimitPerMinute',
  },
  HISTORY_TTL_SECONDS: {
    schema: env.int(60, 30 * 86_400),
    default: '86400',
    description: 'How long a conversation is remembered after its last ask',
  },
  HISTORY_MAX_MESSAGES: {
    schema: env.int(2, 10_000),
    default: '40',
    description:
      'Messages of earlier turns sent to the model; past it the oldest whole turns are dropped, and the model is told so',
  },
  TOOL_QUOTA_PER_MINUTE: {
    schema: env.int(1, 10_000_000),
    default: '500',
    description:
      "Calls per minute per tool (and per tenant per tool) unless the tool's definition sets its own",
  },
  MAX_TOOL_ARGUMENTS_BYTES: {
    // Below the broker's 1 MiB message limit with room for the rest of the message.
    schema: env.int(1024, 512 * 1024),
    default: String(64 * 1024),
    description:
      'Largest tool call arguments (as JSON) accepted; larger ones are refused (arguments_too_large) before anything runs. The invoke route takes bodies up to this plus 64 KiB',
  },
  TOOL_CALL_ATTEMPTS: {
    schema: env.int(1, 10),
    default: '3',
    description:
      'Attempts of a tool call whose failure is retryable, within its deadline, the same key each time',
  },
  TOOL_CALL_BACKOFF_MS: {
    schema: env.int(1, 60_000),
    default: '100',
    description: 'First backoff between attempts; doubles with jitter',
  },
  BREAKER_FAILURE_RATIO: {
    schema: env.int(1, 100),
    default: '50',
    description: "Percentage of failed calls in the window that opens a tool's breaker",
  },
  BREAKER_WINDOW_MS: {
    schema: env.int(100, 3_600_000),
    default: '30000',
    description: 'Window over which the failure ratio is measured',
  },
  BREAKER_MIN_CALLS: {
    schema: env.int(1, 100_000),
    default: '10',
    description: 'Calls in the window before the ratio may open the breaker',
  },
  BREAKER_HALF_OPEN_MS: {
    schema: env.int(10, 3_600_000),
    default: '10000',
    description: 'How long an open breaker waits before a trial call',
  },
} satisfies ConfigSpec;

export const orchestratorConfig = { ...commonConfig, ...orchestratorOwnConfig, ...ledgerConfig };
export type OrchestratorConfig = ConfigOf<typeof orchestratorConfig>;

export function loadOrchestratorConfig(
  environment: NodeJS.ProcessEnv = process.env,
): OrchestratorConfig {
  return loadConfig(orchestratorConfig, environment);
}
