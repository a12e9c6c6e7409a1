import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { busFromConfig } from './bootstrap.js';
import { commonConfig, ConfigError, configSourceFile, loadConfig } from './config.js';
import { kafkaSecurityFromConfig } from './kafka-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kafka-config-'));
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

/** The security options for an environment, through loadConfig as a service reads it. */
function fromEnv(env: Record<string, string>) {
  return kafkaSecurityFromConfig(loadConfig(commonConfig, env));
}

/** The ConfigError's problems as `VARIABLE: message` lines. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    fromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Kafka security configuration', () => {
  it('defaults to no TLS and no SASL', () => {
    const config = loadConfig(commonConfig, {});
    expect(config.KAFKA_TLS).toBe(false);
    expect(kafkaSecurityFromConfig(config)).toEqual({});
  });

  it('turns on TLS with the system CAs, or with a CA bundle', () => {
    expect(fromEnv({ KAFKA_TLS: 'true' })).toEqual({ tls: true });
    expect(fromEnv({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: caFile })).toEqual({ tls: { caFile } });
  });

  it('passes SCRAM credentials through', () => {
    expect(
      fromEnv({
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'registry',
        KAFKA_SASL_PASSWORD: 'pw',
      }),
    ).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'registry', password: 'pw' } });
  });

  it('refuses an unknown mechanism, naming the variable and the choices', () => {
    expect(() => loadConfig(commonConfig, { KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(
      /KAFKA_SASL_MECHANISM: invalid value "gssapi": must be one of scram-sha-256, scram-sha-512, plain/,
    );
  });

  it('refuses a mechanism without its username and password', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-256' })).toEqual([
      'KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM=scram-sha-256',
      'KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM=scram-sha-256',
    ]);
    expect(
      problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'registry' }),
    ).toEqual(['KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM=scram-sha-512']);
  });

  it('refuses credentials without a mechanism, without echoing the password', () => {
    const problems = problemsOf({ KAFKA_SASL_USERNAME: 'registry', KAFKA_SASL_PASSWORD: 's3cret' });
    expect(problems).toEqual([
      'KAFKA_SASL_USERNAME: is set but KAFKA_SASL_MECHANISM is not: set both',
      'KAFKA_SASL_PASSWORD: is set but KAFKA_SASL_MECHANISM is not: set both',
    ]);
    expect(problems.join()).not.toContain('s3cret');
  });

  it('refuses SASL PLAIN without TLS, and accepts it with TLS', () => {
    const plain = {
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'registry',
      KAFKA_SASL_PASSWORD: 'pw',
    };
    expect(problemsOf(plain)).toEqual([
      'KAFKA_SASL_MECHANISM: plain sends the password in clear text: it needs KAFKA_TLS=true',
    ]);
    expect(fromEnv({ ...plain, KAFKA_TLS: 'true' })).toEqual({
      tls: true,
      sasl: { mechanism: 'plain', username: 'registry', password: 'pw' },
    });
  });

  it('refuses a CA bundle without TLS, one that cannot be read, and one that is no PEM', () => {
    expect(problemsOf({ KAFKA_TLS_CA_FILE: caFile })).toEqual([
      'KAFKA_TLS_CA_FILE: is set but KAFKA_TLS is false: set KAFKA_TLS=true',
    ]);
    const missing = join(dir, 'missing.pem');
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: missing })).toEqual([
      `KAFKA_TLS_CA_FILE: cannot read ${missing}: ENOENT`,
    ]);
    const der = join(dir, 'ca.der');
    writeFileSync(der, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: der })).toEqual([
      `KAFKA_TLS_CA_FILE: ${der} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
  });

  it('refuses a bad KAFKA_TLS value, naming it', () => {
    expect(() => loadConfig(commonConfig, { KAFKA_TLS: 'maybe' })).toThrow(
      /KAFKA_TLS: invalid value "maybe": must be true or false/,
    );
  });

  it('reads a password given as a file again at each authentication, keeping the last one while the file is empty', async () => {
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'first\n');
    const config = loadConfig(commonConfig, {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'registry',
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
    });
    expect(configSourceFile(config, 'KAFKA_SASL_PASSWORD')).toBe(passwordFile);
    const { sasl } = kafkaSecurityFromConfig(config);
    const password = sasl?.password;
    if (typeof password !== 'function') throw new Error('expected a password provider');
    expect(await password()).toBe('first');
    writeFileSync(passwordFile, 'rotated\n');
    expect(await password()).toBe('rotated');
    writeFileSync(passwordFile, '');
    expect(await password()).toBe('rotated');
  });

  it('keeps a password given directly fixed, even when a file is named too (the variable wins)', () => {
    const passwordFile = join(dir, 'ignored');
    writeFileSync(passwordFile, 'from-file');
    const config = loadConfig(commonConfig, {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'registry',
      KAFKA_SASL_PASSWORD: 'direct',
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
    });
    expect(configSourceFile(config, 'KAFKA_SASL_PASSWORD')).toBeUndefined();
    expect(kafkaSecurityFromConfig(config).sasl?.password).toBe('direct');
  });

  it('stops a service with Kafka brokers at start-up when the settings contradict each other', () => {
    const config = loadConfig(commonConfig, {
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
    });
    expect(() =>
      busFromConfig('kit', config, createLogger({ name: 'kit', level: 'silent' })),
    ).toThrow(ConfigError);
  });
});

describe('Kafka namespace', () => {
  it('is unset by default, and taken when it is a name Kafka accepts', () => {
    expect(loadConfig(commonConfig, {}).KAFKA_NAMESPACE).toBeUndefined();
    expect(loadConfig(commonConfig, { KAFKA_NAMESPACE: 'staging.' }).KAFKA_NAMESPACE).toBe(
      'staging.',
    );
  });

  it('refuses characters Kafka refuses in a topic name, naming the variable', () => {
    expect(() => loadConfig(commonConfig, { KAFKA_NAMESPACE: 'team a/' })).toThrow(
      /KAFKA_NAMESPACE: invalid value "team a\/": must be at most 100 of A-Z a-z 0-9 \. _ -/,
    );
  });
});
