import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '@toolbus/observability';
import { ConfigError } from './config.js';

/** The mutual-TLS listener's settings, when `MTLS_PORT` is set. */
export interface MtlsSettings {
  port: number;
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * The API's mutual-TLS settings from the common variables, or undefined for plain HTTP. With
 * `MTLS_PORT` set the API is served only there, so no plain port bypasses the client
 * certificate; the management port stays plain for the kubelet and Prometheus.
 */
export function mtlsFromConfig(config: {
  MTLS_PORT?: number;
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
  TLS_CA_FILE?: string;
}): MtlsSettings | undefined {
  if (config.MTLS_PORT === undefined) {
    const stray = (['TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CA_FILE'] as const).filter(
      (v) => config[v] !== undefined,
    );
    if (stray.length > 0)
      throw new ConfigError(
        stray.map((variable) => ({ variable, message: 'is set but MTLS_PORT is not: set both' })),
      );
    return undefined;
  }
  const missing = (['TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CA_FILE'] as const).filter(
    (v) => config[v] === undefined,
  );
  if (missing.length > 0)
    throw new ConfigError(
      missing.map((variable) => ({
        variable,
        message: 'is required with MTLS_PORT: the certificate, its key and the CA of the clients',
      })),
    );
  return {
    port: config.MTLS_PORT,
    certFile: config.TLS_CERT_FILE!,
    keyFile: config.TLS_KEY_FILE!,
    caFile: config.TLS_CA_FILE!,
  };
}

/**
 * The certificate, key and client CA of the mTLS listener, read from their files and re-read
 * when one changes (cert-manager renews them in place), so a rotation needs no restart. A
 * change that cannot be loaded (a half-written file) keeps the previous context and is logged.
 */
export class TlsFiles {
  private server?: TlsServer;
  private readonly files: string[];

  constructor(
    private readonly settings: MtlsSettings,
    private readonly logger: Logger,
    private readonly pollMs = 2_000,
  ) {
    this.files = [settings.certFile, settings.keyFile, settings.caFile];
  }

  /** Options of the HTTPS server: the files now, and client certificates required. */
  serverOptions(): HttpsServerOptions {
    return {
      ...this.read(),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    };
  }

  /** Reloads the server's secure context whenever one of the files changes. */
  watch(server: TlsServer): void {
    this.server = server;
    for (const file of this.files)
      watchFile(file, { interval: this.pollMs, persistent: false }, () => this.reload());
  }

  stop(): void {
    for (const file of this.files) unwatchFile(file);
  }

  private reload(): void {
    try {
      this.server?.setSecureContext(this.read());
      this.logger.info({ cert: this.settings.certFile }, 'TLS certificates reloaded');
    } catch (error) {
      this.logger.error(
        { err: error, cert: this.settings.certFile },
        'TLS certificates changed but could not be loaded; keeping the previous ones',
      );
    }
  }

  private read(): { cert: Buffer; key: Buffer; ca: Buffer } {
    const read = (file: string, what: string) => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new Error(
          `cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
        );
      }
    };
    return {
      cert: read(this.settings.certFile, 'certificate (TLS_CERT_FILE)'),
      key: read(this.settings.keyFile, 'private key (TLS_KEY_FILE)'),
      ca: read(this.settings.caFile, 'client CA bundle (TLS_CA_FILE)'),
    };
  }
}
