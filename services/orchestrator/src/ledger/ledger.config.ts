import { auditKeysConfig, authConfig, checkAuthConfig } from '@toolbus/security';
import { ConfigError, env, type ConfigOf, type ConfigSpec } from '@toolbus/service-kit';

/**
 * The audit ledger's variables: the switch, the keys its rows are sealed with, how it waits for
 * PostgreSQL, and the tokens of the readers of its API (`AUTH_*`, as every service verifies
 * callers). Merged into the orchestrator's config.
 */
export const ledgerConfig = {
  AUDIT_LEDGER_ENABLED: {
    schema: env.bool(),
    default: 'false',
    description:
      'Consume toolbus.audit into the hash-chained ledger and serve /v1/audit (needs AUDIT_KEY_ID, AUTH_*); off, events wait on the topic',
  },
  // The security library's variables, described in fewer words for the README's table.
  AUDIT_KEYS_DIR: {
    ...auditKeysConfig.AUDIT_KEYS_DIR,
    description:
      'Mounted Secret of the keys rows are sealed with: a file per key id, 32 bytes as base64 or hex; keep retired keys mounted',
  },
  AUDIT_KEY_ID: {
    ...auditKeysConfig.AUDIT_KEY_ID,
    schema: env.optional(auditKeysConfig.AUDIT_KEY_ID.schema),
    description:
      'Id (file name in AUDIT_KEYS_DIR) of the key new rows are sealed with; rotate by pointing it at a new key',
  },
  AUDIT_LEDGER_ARGUMENTS: {
    schema: env.bool(),
    default: 'false',
    description:
      "Keep tool call arguments in the ledger (sealed), not only their hash; they then travel on toolbus.audit, so restrict the topic's readers",
  },
  AUDIT_LEDGER_CONCURRENCY: {
    schema: env.int(1, 64),
    default: '4',
    description:
      'Audit events one instance seals at once (appends are serialized by the chain head anyway)',
  },
  AUDIT_LEDGER_RETRY_MS: {
    schema: env.int(1, 60_000),
    default: '200',
    description:
      'First wait before storing an event again after PostgreSQL failed; doubles up to AUDIT_LEDGER_RETRY_MAX_MS, and the offset waits meanwhile',
  },
  AUDIT_LEDGER_RETRY_MAX_MS: {
    schema: env.int(1, 600_000),
    default: '30000',
    description: 'Longest wait between attempts to store an event',
  },
  AUDIT_LEDGER_PAGE_LIMIT: {
    schema: env.int(1, 1000),
    default: '100',
    description: 'Most rows one page of GET /v1/audit answers (the chain pages hold 10 times more)',
  },
  ...authConfig,
} satisfies ConfigSpec;

export type LedgerConfig = ConfigOf<typeof ledgerConfig>;

/**
 * Throws a ConfigError naming the variables an enabled ledger lacks: the key id, and one way
 * of verifying its readers' tokens (see `checkAuthConfig`). Nothing is checked while it is off.
 */
export function checkLedgerConfig(config: LedgerConfig): void {
  if (!config.AUDIT_LEDGER_ENABLED) return;
  const problems: Array<{ variable: string; message: string }> = [];
  if (!config.AUDIT_KEY_ID)
    problems.push({
      variable: 'AUDIT_KEY_ID',
      message: `is required with AUDIT_LEDGER_ENABLED: the id of the key (a file in ${config.AUDIT_KEYS_DIR}) new rows are sealed with`,
    });
  if (config.AUDIT_LEDGER_RETRY_MAX_MS < config.AUDIT_LEDGER_RETRY_MS)
    problems.push({
      variable: 'AUDIT_LEDGER_RETRY_MAX_MS',
      message: `must be at least AUDIT_LEDGER_RETRY_MS (${config.AUDIT_LEDGER_RETRY_MS})`,
    });
  try {
    checkAuthConfig(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length) throw new ConfigError(problems);
}
