import { commonConfig, env, type ConfigOf } from '@toolbus/service-kit';

/** Variables every tool consumer has, on top of its own. */
export const toolConsumerConfig = {
  ...commonConfig,
  DATABASE_URL: {
    schema: env.string(),
    default: 'pglite://memory',
    description:
      "The consumer database (dedup records and the tools' own tables): postgres://… or pglite://memory",
  },
  DATABASE_SCHEMA: {
    schema: env.optional(env.string()),
    description: 'PostgreSQL schema of the consumer; default the service name with - as _',
  },
  REGISTRY_URL: {
    schema: env.optional(env.url()),
    description:
      'Registry base URL; tools are registered there at start-up. Unset: no registration (tests, embedded)',
  },
  REGISTRY_TOKEN: {
    schema: env.optional(env.string()),
    secret: true,
    description:
      'Bearer token (scope registry:write) the consumer registers its tools with, and reads the catalog with',
  },
  TOOL_OWNER: {
    schema: env.string(),
    default: 'platform',
    description: 'Owning team recorded in the registry',
  },
  TOOL_REGION: { schema: env.string(), default: 'eu', description: 'Data region of these tools' },
  TOOL_CONCURRENCY: {
    schema: env.int(1, 1024),
    default: '16',
    description: 'Tool calls handled at once by one instance',
  },
  CALL_GRANT_JWKS_FILE: {
    schema: env.optional(env.string()),
    description:
      "The dispatcher's call grant keys, a JWKS file (a mounted Secret or ConfigMap), re-read when it changes; this or CALL_GRANT_JWKS_URL is required",
  },
  CALL_GRANT_JWKS_URL: {
    schema: env.optional(env.url()),
    description:
      "The dispatcher's call grant keys at a JWKS URL, cached 10 min and refetched on an unknown kid; this or CALL_GRANT_JWKS_FILE is required",
  },
  CALL_GRANT_ISSUER: {
    schema: env.string(),
    default: 'toolbus-orchestrator',
    description: 'The `iss` every call grant must carry (the dispatcher that signs them)',
  },
  TOOL_DEADLINE_GRACE_MS: {
    schema: env.int(0, 60_000),
    default: '1000',
    description:
      "A call's deadline is capped at its arrival + the tool's timeoutMs + this, however late the caller asked for",
  },
  DEDUP_RETENTION_HOURS: {
    schema: env.int(1, 87_600),
    default: '168',
    description:
      'Dedup records of finished calls are deleted after this long; a repeat of an older key runs again',
  },
  DEDUP_RETENTION_INTERVAL_MINUTES: {
    schema: env.int(1, 1440),
    default: '60',
    description: 'How often the dedup retention job runs (one replica at a time)',
  },
  TOOL_DEFAULT_DEADLINE_MS: {
    schema: env.int(10, 600_000),
    default: '2000',
    description: 'Deadline of an HTTP call that names none',
  },
  TOOLBUS_TEST_MODE: {
    schema: env.bool(),
    default: 'false',
    description: 'Allows test-only switches such as TOOLBUS_FAILPOINT; never set in a deployment',
  },
  TOOLBUS_FAILPOINT: {
    schema: env.optional(env.oneOf(['exit-after-commit'] as const)),
    description:
      'Crash-consistency tests: exit-after-commit kills the process right after a tool effect commits, before it answers. Needs TOOLBUS_TEST_MODE',
  },
  TOOL_HTTP_URL: {
    schema: env.optional(env.url()),
    description:
      'URL the registry should list for synchronous tools (this service, as callers reach it)',
  },
};

export type ToolConsumerConfig = ConfigOf<typeof toolConsumerConfig>;
