import { readFileSync } from 'node:fs';
import { KAFKA_SASL_MECHANISMS } from '@toolbus/messaging';
import { z } from 'zod';

/** One environment variable: how to parse it, what it means, and whether it is a secret. */
export interface ConfigVar<S extends z.ZodType = z.ZodType> {
  schema: S;
  description: string;
  /** Used when the variable is unset or empty; omit for required variables. */
  default?: string;
  /** Secrets are never echoed back in errors or logs. */
  secret?: boolean;
}

export type ConfigSpec = Record<string, ConfigVar>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: z.output<S[K]['schema']> };

/** Raised at start-up when the environment is wrong; names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
    );
  }
}

/** Per loaded config, the variables that came from a `<NAME>_FILE`, and the file. */
const sourceFiles = new WeakMap<object, Record<string, string>>();

/**
 * The file a variable of this config was read from (`<NAME>_FILE`), if it was: a value that
 * rotates on disk (Vault Agent re-renders its files) can be read again where it is used. Only
 * the object `loadConfig` returned knows; a copy of it does not.
 */
export function configSourceFile(config: object, variable: string): string | undefined {
  return sourceFiles.get(config)?.[variable];
}

/**
 * Reads and validates the service's variables. Only the config module of a service calls
 * this; the rest of the service receives the typed result. Any variable may instead be given
 * as a file, `<NAME>_FILE=/path` (how Vault agents and mounted Secrets deliver values); the
 * variable itself wins when both are set.
 */
export function loadConfig<S extends ConfigSpec>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const files: Record<string, string> = {};
  const problems: Array<{ variable: string; message: string }> = [];
  for (const [name, v] of Object.entries(spec)) {
    let raw = env[name];
    const file = env[`${name}_FILE`];
    if ((raw === undefined || raw === '') && file) {
      try {
        raw = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        files[name] = file;
      } catch (error) {
        problems.push({
          variable: `${name}_FILE`,
          message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        });
        continue;
      }
    }
    const value = raw === undefined || raw === '' ? v.default : raw;
    if (value === undefined) {
      const parsed = v.schema.safeParse(undefined);
      if (parsed.success) {
        out[name] = parsed.data;
        continue;
      }
      problems.push({ variable: name, message: `is required: ${v.description}` });
      continue;
    }
    const parsed = v.schema.safeParse(value);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const reason = parsed.error.issues.map((i) => i.message).join('; ');
      problems.push({
        variable: name,
        message: v.secret
          ? `invalid (value hidden): ${reason}`
          : `invalid value "${value}": ${reason}`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  sourceFiles.set(out, files);
  return out as ConfigOf<S>;
}

/** A Markdown table of the variables, for the service README. */
export function configTable(spec: ConfigSpec): string {
  const rows = Object.entries(spec).map(
    ([name, v]) =>
      `| \`${name}\` | ${v.description} | ${v.default === undefined ? (v.schema.safeParse(undefined).success ? '(unset)' : '**required**') : `\`${v.default}\``} | ${v.secret ? 'yes' : ''} |`,
  );
  return ['| variable | meaning | default | secret |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

/** Parsers for environment strings. */
export const env = {
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z
      .string()
      .regex(/^-?\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(
        z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
      ),
  port: () => env.int(0, 65535),
  bool: () =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  list: () =>
    z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  url: () => z.url({ message: 'must be a URL' }),
  string: () => z.string().min(1, 'must not be empty'),
  optional: <S extends z.ZodType>(schema: S) => schema.optional(),
  oneOf: <T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { message: `must be one of ${values.join(', ')}` }),
  json: <S extends z.ZodType>(schema: S) =>
    z
      .string()
      .transform((v, ctx) => {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON' });
          return z.NEVER;
        }
      })
      .pipe(schema),
};

/** Variables every service has. */
export const commonConfig = {
  HOST: {
    schema: env.string(),
    default: '127.0.0.1',
    description: 'Address the HTTP server binds to (0.0.0.0 in containers)',
  },
  PORT: {
    schema: env.port(),
    default: '8080',
    description: 'HTTP port of the API (not served when MTLS_PORT is set)',
  },
  MANAGEMENT_PORT: {
    schema: env.port(),
    default: '9090',
    description:
      'Port of /health/live, /health/ready and /metrics, apart from the API (0 picks a free port)',
  },
  MTLS_PORT: {
    schema: env.optional(env.port()),
    description:
      'Serve the API over mutual TLS on this port instead of PORT: client certificates signed by TLS_CA_FILE are required',
  },
  TLS_CERT_FILE: {
    schema: env.optional(env.string()),
    description: 'PEM certificate (chain) of the mTLS listener; re-read when it changes',
  },
  TLS_KEY_FILE: {
    schema: env.optional(env.string()),
    description: 'PEM private key of the mTLS listener; re-read when it changes',
  },
  TLS_CA_FILE: {
    schema: env.optional(env.string()),
    description: 'PEM CA bundle that client certificates must chain to; re-read when it changes',
  },
  LOG_LEVEL: {
    schema: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    default: 'info',
    description: 'Log level',
  },
  KAFKA_BROKERS: {
    schema: env.optional(env.list()),
    description:
      'Kafka bootstrap brokers (host:port,...); unset runs the in-memory bus (embedded mode)',
  },
  KAFKA_TLS: {
    schema: env.bool(),
    default: 'false',
    description: "Connect to Kafka over TLS; the brokers' certificates are always verified",
  },
  KAFKA_TLS_CA_FILE: {
    schema: env.optional(env.string()),
    description:
      "PEM CA bundle the brokers' certificates must chain to, read at each connection; unset: the system CAs",
  },
  KAFKA_SASL_MECHANISM: {
    schema: env.optional(env.oneOf(KAFKA_SASL_MECHANISMS)),
    description:
      'Kafka SASL mechanism: scram-sha-256, scram-sha-512, or plain (needs KAFKA_TLS); unset: no SASL',
  },
  KAFKA_SASL_USERNAME: {
    schema: env.optional(env.string()),
    description: 'Kafka SASL user name (with KAFKA_SASL_MECHANISM)',
  },
  KAFKA_SASL_PASSWORD: {
    schema: env.optional(env.string()),
    secret: true,
    // Kept within the narrowest README table's column, so the tables gain rows but keep their width.
    description:
      'Kafka SASL password; as KAFKA_SASL_PASSWORD_FILE it is read at each connection (rotates, no restart)',
  },
  KAFKA_NAMESPACE: {
    // Kafka's own alphabet for topic names; the bound leaves room for the longest topic.
    schema: env.optional(
      z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be at most 100 of A-Z a-z 0-9 . _ -'),
    ),
    description:
      'Prefix of every Kafka topic and consumer group (e.g. staging.): platforms sharing a cluster never share a message; the same for every service of one platform',
  },
  KAFKA_SESSION_TIMEOUT_MS: {
    schema: env.int(3000, 300_000),
    default: '10000',
    description: 'Kafka consumer session timeout',
  },
  SHUTDOWN_DEADLINE_MS: {
    schema: env.int(0, 600_000),
    default: '10000',
    description: 'How long in-flight messages may finish on shutdown',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: env.optional(env.url()),
    description: 'OTLP/HTTP endpoint for traces; unset exports nothing',
  },
} satisfies ConfigSpec;
