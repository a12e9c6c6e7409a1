import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, type KafkaBusOptions, type MessageBus } from '../src/index.js';

const TYPE = 'dev.toolbus.test.secure.v1';

/** The test broker's security listeners, as `scripts/infra.sh env` prints them. */
function securityFromEnv() {
  const names = [
    'KAFKA_TEST_SASL_BROKERS',
    'KAFKA_TEST_MTLS_BROKERS',
    'KAFKA_TEST_CA_FILE',
    'KAFKA_TEST_CLIENT_CERT_FILE',
    'KAFKA_TEST_CLIENT_KEY_FILE',
    'KAFKA_TEST_SASL_USERNAME',
    'KAFKA_TEST_SASL_PASSWORD',
  ] as const;
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length > 0) {
    throw new Error(
      `the Kafka security tests need ${missing.join(', ')} from \`scripts/infra.sh env\`; a broker ` +
        'started by an older infra.sh has no SASL_SSL listener: restart it (scripts/infra.sh down, then up)',
    );
  }
  const get = (n: (typeof names)[number]) => process.env[n]!;
  return {
    saslBrokers: get('KAFKA_TEST_SASL_BROKERS').split(','),
    mtlsBrokers: get('KAFKA_TEST_MTLS_BROKERS').split(','),
    caFile: get('KAFKA_TEST_CA_FILE'),
    certFile: get('KAFKA_TEST_CLIENT_CERT_FILE'),
    keyFile: get('KAFKA_TEST_CLIENT_KEY_FILE'),
    username: get('KAFKA_TEST_SASL_USERNAME'),
    password: get('KAFKA_TEST_SASL_PASSWORD'),
  };
}

/** How long a refused connection may take to fail: kafkajs's retries (about 16 s), with room. */
const REFUSED_WITHIN_MS = 40_000;

describe('Kafka over SASL_SSL and mutual TLS (real broker)', () => {
  let env: ReturnType<typeof securityFromEnv>;
  let admin: kafkajs.Admin;
  const buses: MessageBus[] = [];
  const topics: string[] = [];

  /** A bus on the SASL_SSL listener with SCRAM-SHA-512 and the test CA, unless overridden. */
  const secureBus = (overrides: Partial<KafkaBusOptions> = {}): MessageBus => {
    const bus = createKafkaBus({
      serviceName: uniqueName('secure'),
      brokers: env.saslBrokers,
      tls: { caFile: env.caFile },
      sasl: { mechanism: 'scram-sha-512', username: env.username, password: env.password },
      logger: createLogger({
        name: 'secure-test',
        level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      }),
      shutdownDeadlineMs: 5_000,
      sessionTimeoutMs: 6_000,
      ...overrides,
    });
    buses.push(bus);
    return bus;
  };

  /** A topic created through the secure listener (admin requests over SASL_SSL too). */
  const topic = async (partitions = 1): Promise<string> => {
    const name = uniqueName('secure-t');
    await secureBus().ensureTopics([{ name, partitions }]);
    topics.push(name);
    return name;
  };

  /** Publishes once and returns the error and how long it took to arrive. */
  const failure = async (bus: MessageBus, to: string) => {
    const started = Date.now();
    const error = await bus.publish(to, { type: TYPE, value: { n: 1 } }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    return { error, ms: Date.now() - started };
  };

  beforeAll(async () => {
    env = securityFromEnv();
    // Clean-up goes through PLAINTEXT, which every other test uses.
    admin = new kafkajs.Kafka({
      clientId: 'secure-test-admin',
      brokers: infraFromEnv().kafkaBrokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close(1_000).catch(() => undefined)));
    await admin?.deleteTopics({ topics }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('serves request-reply and publish/subscribe over SASL_SSL with SCRAM-SHA-512', async () => {
    const requests = await topic();
    const replies = await topic(4);
    const events = await topic();
    const responder = secureBus();
    await responder.respond<{ n: number }, { doubled: number }>(
      { topic: requests, groupId: uniqueName('responders'), replyTopics: [replies] },
      async (m) => ({ type: TYPE, value: { doubled: m.value.n * 2 } }),
    );
    const seen: number[] = [];
    await responder.subscribe<{ n: number }>(
      { topic: events, groupId: uniqueName('listeners') },
      async (m) => {
        seen.push(m.value.n);
      },
    );
    const caller = secureBus();
    const reply = await caller.request<{ n: number }, { doubled: number }>(
      requests,
      { type: TYPE, value: { n: 21 } },
      { replyTopic: replies, timeoutMs: 30_000 },
    );
    expect(reply.value).toEqual({ doubled: 42 });
    await caller.publish(events, { type: TYPE, value: { n: 7 } });
    await waitFor(() => seen.includes(7), { what: 'the event over SASL_SSL', timeoutMs: 30_000 });
    expect(await caller.isHealthy()).toBe(true);
  });

  it.each(['scram-sha-256', 'plain'] as const)('authenticates with %s too', async (mechanism) => {
    const to = await topic();
    const bus = secureBus({
      sasl: { mechanism, username: env.username, password: env.password },
    });
    await expect(bus.publish(to, { type: TYPE, value: { n: 1 } })).resolves.toBeUndefined();
  });

  it('fails a wrong password at once with the broker’s authentication error, not a hang', async () => {
    const to = await topic();
    const { error, ms } = await failure(
      secureBus({
        sasl: { mechanism: 'scram-sha-512', username: env.username, password: 'wrong' },
      }),
      to,
    );
    expect(error?.message).toMatch(
      /SASL SCRAM SHA512 authentication failed: .*invalid credentials/,
    );
    // Not retried: kafkajs's authentication error is non-retriable.
    expect(ms).toBeLessThan(10_000);
  });

  it('uses a rotated password from the next connection on', async () => {
    const to = await topic();
    let current = 'not-yet-rotated';
    const bus = secureBus({
      sasl: { mechanism: 'scram-sha-512', username: env.username, password: () => current },
    });
    expect((await failure(bus, to)).error?.message).toMatch(/authentication failed/);
    current = env.password;
    await expect(bus.publish(to, { type: TYPE, value: { n: 2 } })).resolves.toBeUndefined();
  });

  it('refuses the broker’s certificate without the CA that signed it', async () => {
    const to = await topic();
    const { error, ms } = await failure(secureBus({ tls: true }), to);
    expect(error?.message).toMatch(
      /TLS: the certificate of broker 127\.0\.0\.1:\d+ is refused \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
    );
    expect(ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it('reads the CA bundle at each connection, so a corrected bundle needs no new bus', async () => {
    const to = await topic();
    // A bundle that holds the wrong certificate (the client's, not the CA) at first.
    const caFile = join(mkdtempSync(join(tmpdir(), 'kafka-ca-')), 'ca.pem');
    copyFileSync(env.certFile, caFile);
    const bus = secureBus({ tls: { caFile } });
    expect((await failure(bus, to)).error?.message).toMatch(/TLS: the certificate of broker/);
    copyFileSync(env.caFile, caFile);
    await expect(bus.publish(to, { type: TYPE, value: { n: 3 } })).resolves.toBeUndefined();
  });

  it('fails clearly when it speaks plain text to the TLS listener', async () => {
    const to = await topic();
    const { error, ms } = await failure(secureBus({ tls: false }), to);
    expect(error?.message).toBe(
      'Closed connection: the broker hung up before answering; does this listener need TLS?',
    );
    expect(ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it('connects with a client certificate where the broker requires one, and is refused without', async () => {
    const to = await topic();
    const withCert = secureBus({
      brokers: env.mtlsBrokers,
      sasl: undefined,
      tls: { caFile: env.caFile, certFile: env.certFile, keyFile: env.keyFile },
    });
    await expect(withCert.publish(to, { type: TYPE, value: { n: 4 } })).resolves.toBeUndefined();
    const { error, ms } = await failure(
      secureBus({ brokers: env.mtlsBrokers, sasl: undefined, tls: { caFile: env.caFile } }),
      to,
    );
    expect(error?.message).toMatch(/TLS: broker 127\.0\.0\.1:\d+ ended the handshake/);
    expect(ms).toBeLessThan(REFUSED_WITHIN_MS);
  });
});
