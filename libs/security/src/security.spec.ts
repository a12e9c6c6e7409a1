import { mkdtemp, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, TEST_JWT_SECRET } from '@toolbus/testing';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@toolbus/service-kit';
import {
  AuthGuard,
  hasScope,
  hasScopes,
  Public,
  SecretStore,
  secretsConfig,
  TokenVerifier,
  UnauthenticatedError,
} from './index.js';

const config = {
  AUTH_JWT_SECRET: TEST_JWT_SECRET,
  AUTH_ALLOW_SHARED_KEY: true,
  AUTH_ISSUER: 'https://toolbus.dev',
  AUTH_AUDIENCE: 'toolbus',
};

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier(config);

  it('turns a valid token into a principal with scopes, tenant and regions', async () => {
    const token = await issueToken({
      sub: 'alice',
      scopes: ['registry:read', 'crm:read', 'not a scope'],
      tenant: 'acme',
      regions: ['eu'],
    });
    const principal = await verifier.verifyHeader(`Bearer ${token}`);
    expect(principal).toEqual({
      subject: 'alice',
      kind: 'user',
      tenant: 'acme',
      scopes: ['registry:read', 'crm:read'],
      regions: ['eu'],
    });
  });

  it.each([
    ['no header', undefined, /send a bearer token/],
    ['a basic header', 'Basic abc', /send a bearer token/],
    ['garbage', 'Bearer abc.def.ghi', /signature or format is invalid/],
  ])('refuses %s, saying why', async (_what, header, message) => {
    await expect(verifier.verifyHeader(header)).rejects.toThrow(message);
  });

  it('refuses a token signed with another key, for another audience, expired, or without tenant', async () => {
    const other = await issueToken({ sub: 'a' }, 'another-key-another-key-another-key-00');
    await expect(verifier.verify(other)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(verifier.verify(await issueToken({ sub: 'a', audience: 'x' }))).rejects.toThrow(
      /claim "aud"/,
    );
    await expect(verifier.verify(await issueToken({ sub: 'a', expiresIn: '-1m' }))).rejects.toThrow(
      /expired/,
    );
    await expect(
      verifier.verify(await issueToken({ sub: 'a', tenant: 'Not A Tenant!' })),
    ).rejects.toThrow(/claim "tenant"/);
  });

  it('refuses to start without a way to verify', () => {
    expect(() => new TokenVerifier({ AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' })).toThrow(
      /AUTH_JWKS_URL: is required \(or AUTH_JWT_SECRET with AUTH_ALLOW_SHARED_KEY\)/,
    );
  });
});

describe('AuthGuard', () => {
  const guard = new AuthGuard(new TokenVerifier(config), new Reflector());

  @Public('the OpenAPI document')
  class DocsController {
    get(): void {}
  }
  class ToolsController {
    @Public('health probes')
    live(): void {}
    list(): void {}
  }

  const http = (
    controller: new () => object,
    handler: () => void,
    headers: Record<string, string> = {},
  ): ExecutionContext =>
    ({
      getType: () => 'http',
      getHandler: () => handler,
      getClass: () => controller,
      switchToHttp: () => ({ getRequest: () => ({ headers }) }),
    }) as unknown as ExecutionContext;

  it('lets a route marked public (on it or its controller) through without a token', async () => {
    await expect(
      guard.canActivate(http(DocsController, DocsController.prototype.get)),
    ).resolves.toBe(true);
    await expect(
      guard.canActivate(http(ToolsController, ToolsController.prototype.live)),
    ).resolves.toBe(true);
  });

  it('answers 401 on an unmarked route without a token', async () => {
    await expect(
      guard.canActivate(http(ToolsController, ToolsController.prototype.list)),
    ).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
  });
});

describe('scopes', () => {
  it('matches exactly or through an area wildcard, never across areas', () => {
    expect(hasScope({ scopes: ['registry:approve'] }, 'registry:approve')).toBe(true);
    expect(hasScope({ scopes: ['registry:*'] }, 'registry:approve')).toBe(true);
    expect(hasScope({ scopes: ['registry:*'] }, 'crm:read')).toBe(false);
    expect(hasScope({ scopes: ['registry:read'] }, 'registry:approve')).toBe(false);
    expect(hasScopes({ scopes: ['a:b', 'c:d'] }, ['a:b', 'c:d'])).toBe(true);
    expect(hasScopes({ scopes: ['a:b'] }, ['a:b', 'c:d'])).toBe(false);
  });
});

describe('SecretStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
    await mkdir(join(dir, 'crm-api'));
    await writeFile(join(dir, 'crm-api', 'token'), 's3cret\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is found where secretsConfig says: SECRETS_DIR, by default the Kubernetes mount path', async () => {
    expect(loadConfig(secretsConfig, {}).SECRETS_DIR).toBe('/var/run/secrets/toolbus');
    const config = loadConfig(secretsConfig, { SECRETS_DIR: dir });
    expect(await new SecretStore(config.SECRETS_DIR).read('crm-api', 'token')).toBe('s3cret');
  });

  it('reads a key of a mounted secret and sees a rotation', async () => {
    const store = new SecretStore(dir);
    expect(await store.read('crm-api', 'token')).toBe('s3cret');
    await writeFile(join(dir, 'crm-api', 'token'), 'rotated');
    const later = new Date(Date.now() + 5_000);
    await utimes(join(dir, 'crm-api', 'token'), later, later);
    expect(await store.read('crm-api', 'token')).toBe('rotated');
  });

  it('names a missing secret or key, and refuses names that would leave the directory', async () => {
    const store = new SecretStore(dir);
    await expect(store.read('crm-api', 'password')).rejects.toThrow(
      /secret "crm-api" has no key "password"/,
    );
    await expect(store.read('..', 'token')).rejects.toThrow(/not a valid secret name/);
    await expect(store.read('crm-api', '../../etc/passwd')).rejects.toThrow(
      /not a valid secret key/,
    );
  });
});
