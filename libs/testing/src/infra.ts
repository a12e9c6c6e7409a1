/** Connection settings of the real infrastructure started by `make infra-up` / `make test`. */
export interface InfraSettings {
  /** Comma-separated host:port list, e.g. 127.0.0.1:39092. */
  kafkaBrokers: string[];
  /** postgres://user@host:port/db */
  databaseUrl: string;
  /** redis://host:port */
  redisUrl: string;
}

const VARS = {
  kafkaBrokers: 'KAFKA_BROKERS',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
} as const;

/**
 * Reads the documented connection variables (KAFKA_BROKERS, DATABASE_URL, REDIS_URL).
 * Integration tests call this first; a missing variable fails the test with instructions
 * rather than a connection error deep inside a client.
 */
export function infraFromEnv(env: NodeJS.ProcessEnv = process.env): InfraSettings {
  const missing = Object.values(VARS).filter((v) => !env[v]);
  if (missing.length > 0) {
    throw new Error(
      `integration tests need ${missing.join(', ')}: start the infrastructure with \`make infra-up\` ` +
        'and export its variables (`eval "$(scripts/infra.sh env)"`), or run `make test`',
    );
  }
  return {
    kafkaBrokers: env[VARS.kafkaBrokers]!.split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    databaseUrl: env[VARS.databaseUrl]!,
    redisUrl: env[VARS.redisUrl]!,
  };
}
