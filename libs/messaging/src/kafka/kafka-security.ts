import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import type { AuthenticationProviderArgs, ISocketFactory, Mechanism } from 'kafkajs';

/** TLS to the brokers. Their certificates are always verified: there is no way to turn that off. */
export interface KafkaTlsOptions {
  /**
   * PEM file with the CA certificates that sign the brokers' certificates (instead of the
   * system's). Read at every new connection, so a rotated bundle is used from the next reconnect.
   */
  caFile?: string;
  /** PEM client certificate (and chain), for brokers that require mutual TLS; needs `keyFile`. Read at every connection. */
  certFile?: string;
  /** PEM private key of `certFile`. Read at every connection. */
  keyFile?: string;
}

/** The SASL mechanisms the bus speaks. */
export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** SASL authentication to the brokers. */
export interface KafkaSaslOptions {
  mechanism: KafkaSaslMechanism;
  username: string;
  /**
   * The password, or a function that gives the current one. The function is called at every
   * authentication (each new connection), so a rotated password is used from the next reconnect.
   */
  password: string | (() => string | Promise<string>);
}

/** What kafkajs needs for TLS and SASL, built from the bus's options. */
export interface KafkaSecurity {
  ssl?: boolean;
  socketFactory?: ISocketFactory;
  sasl?: Mechanism;
}

/**
 * Checks the options and turns them into kafkajs settings. Refuses SASL PLAIN without TLS: it
 * sends the password in clear text.
 */
export function kafkaSecurity(options: {
  tls?: boolean | KafkaTlsOptions;
  sasl?: KafkaSaslOptions;
}): KafkaSecurity {
  const tlsOptions = options.tls === true ? {} : options.tls || undefined;
  if (tlsOptions && !tlsOptions.certFile !== !tlsOptions.keyFile) {
    throw new Error('Kafka TLS: certFile and keyFile go together (mutual TLS needs both)');
  }
  const out: KafkaSecurity = {};
  if (tlsOptions) {
    // kafkajs passes `ssl` to tls.connect once for all connections; a socket factory reads the
    // files again for each one. `ssl: true` is still set: kafkajs logs it.
    out.ssl = true;
    out.socketFactory = tlsSocketFactory(tlsOptions);
  }
  if (options.sasl) {
    const { mechanism, username } = options.sasl;
    if (!KAFKA_SASL_MECHANISMS.includes(mechanism)) {
      throw new Error(
        `Kafka SASL mechanism "${String(mechanism)}" is not supported: use one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
      );
    }
    if (!username) throw new Error('Kafka SASL needs a username');
    if (mechanism === 'plain' && !tlsOptions) {
      throw new Error('Kafka SASL PLAIN sends the password in clear text: it needs TLS');
    }
    out.sasl = saslMechanism(options.sasl);
  }
  return out;
}

const KEEP_ALIVE_MS = 60_000;

/** kafkajs's own socket factory, except that the CA, certificate and key are read per connection. */
function tlsSocketFactory(options: KafkaTlsOptions): ISocketFactory {
  return ({ host, port, onConnect }) => {
    const socket = tls.connect(
      {
        host,
        port,
        ...(net.isIP(host) ? {} : { servername: host }),
        ...(options.caFile ? { ca: readPem(options.caFile, 'CA bundle') } : {}),
        ...(options.certFile ? { cert: readPem(options.certFile, 'client certificate') } : {}),
        ...(options.keyFile ? { key: readPem(options.keyFile, 'client key') } : {}),
        rejectUnauthorized: true,
      },
      onConnect,
    );
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    let handshaken = false;
    socket.once('secureConnect', () => (handshaken = true));
    // Registered before kafkajs's own listener, which reports only `Connection error: <message>`.
    socket.prependListener('error', (error: NodeJS.ErrnoException) =>
      explainTlsError(error, `${host}:${port}`, handshaken),
    );
    return socket;
  };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    // Thrown inside the socket factory, kafkajs reports it as `Failed to connect: <message>`.
    throw new Error(
      `cannot read the Kafka TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Node's codes for a certificate the client does not trust. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function explainTlsError(error: NodeJS.ErrnoException, broker: string, handshaken: boolean): void {
  const code = error.code ?? '';
  if (UNTRUSTED.has(code)) {
    error.message = `TLS: the certificate of broker ${broker} is refused (${code}: ${error.message}); is it signed by a CA in the CA bundle, for this host name?`;
  } else if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) {
    error.message = `TLS: broker ${broker} ended the handshake (${code}); does it require a client certificate, or refuse this one?`;
  } else if (!handshaken && (code === 'ECONNRESET' || code.startsWith('ERR_SSL_'))) {
    error.message = `TLS: broker ${broker} did not complete a TLS handshake (${code}: ${error.message}); is this a TLS listener?`;
  }
}

/**
 * A broker that closes a new connection without a word is most often a TLS or SASL listener
 * spoken to in plain text; kafkajs says only "Closed connection". Adds the likely cause.
 */
export function explainConnectError(error: unknown, security: KafkaSecurity): unknown {
  if (error instanceof Error && error.message === 'Closed connection') {
    error.message = security.ssl
      ? 'Closed connection: the broker hung up before answering; does this listener need SASL, or refuse this client?'
      : 'Closed connection: the broker hung up before answering; does this listener need TLS?';
  }
  return error;
}

type BuiltInProvider = (sasl: {
  username: string;
  password: string;
}) => (args: AuthenticationProviderArgs) => { authenticate(): Promise<void> };

// kafkajs's own PLAIN and SCRAM implementations. kafkajs takes a fixed password for these
// (only OAUTHBEARER has an async provider), so the bus registers them as a custom mechanism that
// fetches the password at each authentication and hands it to them. The paths are internal to
// kafkajs, which has had no release since 2.2.4 (2023); the integration test covers them.
const requireKafkajs = createRequire(import.meta.url);
const BUILT_IN: Record<KafkaSaslMechanism, string> = {
  plain: 'kafkajs/src/broker/saslAuthenticator/plain.js',
  'scram-sha-256': 'kafkajs/src/broker/saslAuthenticator/scram256.js',
  'scram-sha-512': 'kafkajs/src/broker/saslAuthenticator/scram512.js',
};

function saslMechanism(options: KafkaSaslOptions): Mechanism {
  const provider = requireKafkajs(BUILT_IN[options.mechanism]) as BuiltInProvider;
  const { username, password } = options;
  return {
    mechanism: options.mechanism,
    authenticationProvider: (args) => ({
      authenticate: async () => {
        const current = typeof password === 'function' ? await password() : password;
        await provider({ username, password: current })(args).authenticate();
      },
    }),
  };
}
