import type { AuthenticationProviderArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaSecurity, type KafkaSaslMechanism } from './kafka-security.js';

/** Runs one SASL PLAIN authentication and returns the credentials it sent (`\0user\0password`). */
async function authenticateOnce(security: ReturnType<typeof kafkaSecurity>): Promise<string[]> {
  let sent: Buffer | undefined;
  const args = {
    host: 'broker',
    port: 9093,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    saslAuthenticate: async ({ request }: { request: { encode(): Promise<Buffer> } }) => {
      sent = await request.encode();
    },
  } as unknown as AuthenticationProviderArgs;
  await security.sasl!.authenticationProvider(args).authenticate();
  // Encoder.writeBytes prefixes a 4-byte length.
  return sent!.subarray(4).toString('utf8').split('\u0000').slice(1);
}

describe('Kafka TLS and SASL options', () => {
  it('sets nothing when neither is asked for', () => {
    expect(kafkaSecurity({})).toEqual({});
  });

  it('connects over TLS with a socket factory that reads the files per connection', () => {
    const security = kafkaSecurity({ tls: { caFile: '/nonexistent/ca.pem' } });
    expect(security.ssl).toBe(true);
    expect(security.socketFactory).toBeTypeOf('function');
    // The file is read when a connection is made, and a missing one says which file it was.
    expect(() =>
      security.socketFactory!({ host: '127.0.0.1', port: 1, ssl: {}, onConnect: () => {} }),
    ).toThrow('cannot read the Kafka TLS CA bundle /nonexistent/ca.pem: ENOENT');
  });

  it('refuses a client certificate without its key, and the reverse', () => {
    expect(() => kafkaSecurity({ tls: { certFile: 'c.pem' } })).toThrow(
      'certFile and keyFile go together',
    );
    expect(() => kafkaSecurity({ tls: { keyFile: 'k.pem' } })).toThrow(
      'certFile and keyFile go together',
    );
  });

  it('refuses SASL PLAIN without TLS, an unknown mechanism and an empty username', () => {
    const sasl = { mechanism: 'plain' as const, username: 'u', password: 'p' };
    expect(() => kafkaSecurity({ sasl })).toThrow('PLAIN sends the password in clear text');
    expect(() => kafkaSecurity({ sasl, tls: false })).toThrow('it needs TLS');
    expect(() => kafkaSecurity({ sasl, tls: true })).not.toThrow();
    expect(() =>
      kafkaSecurity({ sasl: { ...sasl, mechanism: 'gssapi' as KafkaSaslMechanism }, tls: true }),
    ).toThrow('"gssapi" is not supported: use one of scram-sha-256, scram-sha-512, plain');
    expect(() => kafkaSecurity({ sasl: { ...sasl, username: '' }, tls: true })).toThrow(
      'needs a username',
    );
  });

  it.each(['scram-sha-256', 'scram-sha-512'] as const)(
    'registers %s under its own name (SCRAM needs no TLS)',
    (mechanism) => {
      const security = kafkaSecurity({ sasl: { mechanism, username: 'u', password: 'p' } });
      expect(security.sasl?.mechanism).toBe(mechanism);
      expect(security.ssl).toBeUndefined();
    },
  );

  it('asks for the password at every authentication, so a rotated one is used on reconnect', async () => {
    let password = 'first';
    let asked = 0;
    const security = kafkaSecurity({
      tls: true,
      sasl: {
        mechanism: 'plain',
        username: 'svc',
        password: async () => {
          asked++;
          return password;
        },
      },
    });
    expect(await authenticateOnce(security)).toEqual(['svc', 'first']);
    password = 'rotated';
    expect(await authenticateOnce(security)).toEqual(['svc', 'rotated']);
    expect(asked).toBe(2);
  });

  it('sends a fixed password as given', async () => {
    const security = kafkaSecurity({
      tls: true,
      sasl: { mechanism: 'plain', username: 'svc', password: 'fixed' },
    });
    expect(await authenticateOnce(security)).toEqual(['svc', 'fixed']);
  });
});
