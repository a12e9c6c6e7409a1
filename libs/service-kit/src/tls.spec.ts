import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Controller, Get, Module } from '@nestjs/common';
import { createMemoryBus, MemoryBroker } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commonConfig,
  ConfigError,
  defineService,
  Public,
  startService,
  type RunningService,
} from './index.js';

const logger = createLogger({ name: 'tls-test', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'toolbus-mtls-'));
const path = (name: string) => join(dir, name);

/** Makes a CA, and certificates signed by it, with the openssl CLI (the certificates a test makes). */
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}
function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path(`${name}.key`),
    '-out',
    path(`${name}.crt`),
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  );
}
function makeCert(name: string, ca: string, extension: string): void {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path(`${name}.key`),
    '-out',
    path(`${name}.csr`),
    '-subj',
    `/CN=${name}`,
  );
  writeFileSync(path(`${name}.ext`), extension);
  openssl(
    'x509',
    '-req',
    '-in',
    path(`${name}.csr`),
    '-CA',
    path(`${ca}.crt`),
    '-CAkey',
    path(`${ca}.key`),
    '-CAcreateserial',
    '-out',
    path(`${name}.crt`),
    '-days',
    '1',
    '-extfile',
    path(`${name}.ext`),
  );
}

@Controller()
class PingController {
  @Get('ping')
  @Public('test route: the client certificate is the authentication here')
  ping(): { pong: true } {
    return { pong: true };
  }
}
@Module({ controllers: [PingController] })
class PingModule {}

const pingService = defineService({
  name: 'ping',
  config: commonConfig,
  topics: () => [],
  module: () => ({ module: PingModule }),
});

interface Answer {
  status?: number;
  error?: string;
  fingerprint?: string;
}

function call(url: string, client?: { cert: string; key: string }): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/ping`,
      {
        ca: execFileSync('cat', [path('server-ca.crt')]),
        ...(client
          ? { cert: execFileSync('cat', [client.cert]), key: execFileSync('cat', [client.key]) }
          : {}),
        agent: false,
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, fingerprint }));
      },
    );
    req.on('error', (error) => resolve({ error: error.message }));
    req.end();
  });
}

describe('the mutual-TLS listener', () => {
  let service: RunningService<unknown>;
  const trusted = { cert: path('client.crt'), key: path('client.key') };

  beforeAll(async () => {
    makeCa('server-ca');
    makeCa('client-ca');
    makeCa('rogue-ca');
    makeCert('server', 'server-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    makeCert('client', 'client-ca', 'extendedKeyUsage=clientAuth\n');
    makeCert('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    service = (await startService(pingService, {
      env: {
        PORT: '0',
        MANAGEMENT_PORT: '0',
        MTLS_PORT: '0',
        TLS_CERT_FILE: path('server.crt'),
        TLS_KEY_FILE: path('server.key'),
        TLS_CA_FILE: path('client-ca.crt'),
        LOG_LEVEL: 'silent',
      },
      bus: createMemoryBus({ serviceName: 'ping', broker: new MemoryBroker(), logger }),
      logger,
    }))!;
  }, 60_000);
  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API over TLS to a client whose certificate the CA signed', async () => {
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await call(service.url, trusted)).toMatchObject({ status: 200 });
  });

  it('refuses a client without a certificate, or with one another CA signed', async () => {
    expect((await call(service.url)).error).toBeDefined();
    expect(
      (await call(service.url, { cert: path('rogue.crt'), key: path('rogue.key') })).error,
    ).toBeDefined();
  });

  it('does not answer plain HTTP on the mTLS port', async () => {
    const plain = await fetch(service.url.replace('https:', 'http:') + '/ping').catch(
      (e: Error) => e,
    );
    expect(plain instanceof Error || plain.status >= 400).toBe(true);
  });

  it('keeps the probes on the plain management port', async () => {
    expect((await fetch(`${service.managementUrl}/health/ready`)).status).toBe(200);
  });

  it('takes a renewed certificate without a restart', async () => {
    const before = (await call(service.url, trusted)).fingerprint;
    // cert-manager swaps the files in place; do the same, key first, then the certificate.
    makeCert('renewed', 'server-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    renameSync(path('renewed.key'), path('server.key'));
    renameSync(path('renewed.crt'), path('server.crt'));
    await expect
      .poll(async () => (await call(service.url, trusted)).fingerprint, {
        timeout: 15_000,
        interval: 250,
      })
      .not.toBe(before);
    expect(await call(service.url, trusted)).toMatchObject({ status: 200 });
  });

  it('refuses MTLS_PORT without its files, naming each missing variable', async () => {
    await expect(
      startService(pingService, {
        env: { PORT: '0', MANAGEMENT_PORT: '0', MTLS_PORT: '8443' },
        logger,
      }),
    ).rejects.toThrow(ConfigError);
    await expect(
      startService(pingService, {
        env: { PORT: '0', MANAGEMENT_PORT: '0', MTLS_PORT: '8443' },
        logger,
      }),
    ).rejects.toThrow(
      /TLS_CERT_FILE: is required with MTLS_PORT[\s\S]*TLS_KEY_FILE[\s\S]*TLS_CA_FILE/,
    );
  });
});
