import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { KafkaBusOptions, KafkaSaslMechanism } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import { ConfigError, configSourceFile } from './config.js';

/** The Kafka security variables of `commonConfig`, as `loadConfig` returns them. */
export interface KafkaSecurityConfig {
  KAFKA_TLS?: boolean;
  KAFKA_TLS_CA_FILE?: string;
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
}

/**
 * The `tls` and `sasl` options of `createKafkaBus` from the service's config. Throws a
 * ConfigError naming the variables when they contradict each other: a mechanism without its
 * credentials or credentials without a mechanism, SASL PLAIN without TLS (the password would
 * travel in clear text), a CA bundle without TLS, or a CA bundle that cannot be read.
 *
 * A password given as KAFKA_SASL_PASSWORD_FILE is read again at each authentication, so a
 * rotated file (Vault Agent) takes effect on the next reconnect; if the file is briefly empty or
 * unreadable mid-rotation, the last password read is used and a warning logged.
 */
export function kafkaSecurityFromConfig(
  config: KafkaSecurityConfig,
  logger?: Logger,
): Pick<KafkaBusOptions, 'tls' | 'sasl'> {
  const problems: Array<{ variable: string; message: string }> = [];
  const mechanism = config.KAFKA_SASL_MECHANISM;
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (mechanism) {
    for (const [variable, value] of [
      ['KAFKA_SASL_USERNAME', username],
      ['KAFKA_SASL_PASSWORD', password],
    ] as const) {
      if (!value)
        problems.push({ variable, message: `is required with KAFKA_SASL_MECHANISM=${mechanism}` });
    }
    if (mechanism === 'plain' && !config.KAFKA_TLS) {
      problems.push({
        variable: 'KAFKA_SASL_MECHANISM',
        message: 'plain sends the password in clear text: it needs KAFKA_TLS=true',
      });
    }
  } else {
    for (const [variable, value] of [
      ['KAFKA_SASL_USERNAME', username],
      ['KAFKA_SASL_PASSWORD', password],
    ] as const) {
      if (value)
        problems.push({ variable, message: 'is set but KAFKA_SASL_MECHANISM is not: set both' });
    }
  }
  const caFile = config.KAFKA_TLS_CA_FILE;
  if (caFile && !config.KAFKA_TLS) {
    problems.push({
      variable: 'KAFKA_TLS_CA_FILE',
      message: 'is set but KAFKA_TLS is false: set KAFKA_TLS=true',
    });
  } else if (caFile) {
    const problem = checkPem(caFile);
    if (problem) problems.push({ variable: 'KAFKA_TLS_CA_FILE', message: problem });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const out: Pick<KafkaBusOptions, 'tls' | 'sasl'> = {};
  if (config.KAFKA_TLS) out.tls = caFile ? { caFile } : true;
  if (mechanism && username && password) {
    const file = configSourceFile(config, 'KAFKA_SASL_PASSWORD');
    out.sasl = {
      mechanism,
      username,
      password: file ? rereadPassword(file, password, logger) : password,
    };
  }
  return out;
}

function checkPem(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  return text.includes('-----BEGIN CERTIFICATE-----')
    ? undefined
    : `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
}

function rereadPassword(file: string, initial: string, logger?: Logger): () => Promise<string> {
  let last = initial;
  return async () => {
    try {
      // The same trimming as loadConfig's <NAME>_FILE.
      const current = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
      if (current) last = current;
      else logger?.warn({ file }, 'KAFKA_SASL_PASSWORD_FILE is empty; using the last password');
    } catch (error) {
      logger?.warn(
        { file, err: error },
        'cannot read KAFKA_SASL_PASSWORD_FILE; using the last password',
      );
    }
    return last;
  };
}
