import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolCallRequested } from '@toolbus/contracts';
import { CallGrantSigner, type GrantedCall } from '@toolbus/security';

/** The `iss` of the test issuer's grants (what {@link grantEnv} sets as `CALL_GRANT_ISSUER`). */
export const TEST_GRANT_ISSUER = 'toolbus-test-dispatcher';
/** The `kid` of the test issuer's key. */
export const TEST_GRANT_KID = 'toolbus-test-grants-1';

interface TestIssuer {
  signer: CallGrantSigner;
  jwksFile: string;
}

let issuer: TestIssuer | undefined;

/**
 * The test process's issuer: an Ed25519 key pair made once per process, its private key and
 * its JWKS written to a temporary folder (removed when the process exits), so an in-process
 * consumer and a consumer process started by the test both verify against the same file, the
 * way a deployment mounts it.
 */
function testIssuer(): TestIssuer {
  if (issuer) return issuer;
  const dir = mkdtempSync(join(tmpdir(), 'toolbus-test-grants-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(
    keyFile,
    generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    { mode: 0o600 },
  );
  const signer = CallGrantSigner.fromFile({
    keyFile,
    kid: TEST_GRANT_KID,
    issuer: TEST_GRANT_ISSUER,
  });
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [signer.publicJwk()] }));
  issuer = { signer, jwksFile };
  return issuer;
}

/** The variables that point a tool consumer at the test issuer's keys. */
export function grantEnv(): { CALL_GRANT_JWKS_FILE: string; CALL_GRANT_ISSUER: string } {
  return { CALL_GRANT_JWKS_FILE: testIssuer().jwksFile, CALL_GRANT_ISSUER: TEST_GRANT_ISSUER };
}

/** The test issuer's signer, for tests that sign odd grants (another audience, a stale call). */
export function testGrantSigner(): CallGrantSigner {
  return testIssuer().signer;
}

/** A grant of the test issuer for `call` to run on `service`, as the dispatcher signs it. */
export function signTestGrant(service: string, call: GrantedCall): Promise<string> {
  return testIssuer().signer.sign(call, service);
}

/** `call` with the test issuer's grant for `service` in its `grant` field (the Kafka form). */
export async function withTestGrant(
  service: string,
  call: ToolCallRequested,
): Promise<ToolCallRequested> {
  return { ...call, grant: await signTestGrant(service, call) };
}

/**
 * The `Authorization` header of an HTTP call to `service` (the HTTP form of the grant). The
 * body carries no `tool` or `deadline`, so they are given here as the caller sends them.
 */
export async function testGrantHeader(
  service: string,
  call: Omit<GrantedCall, 'tool' | 'deadline'>,
  tool: string,
  timeoutMs = 2_000,
): Promise<{ authorization: string }> {
  const deadline = new Date(Date.now() + timeoutMs).toISOString();
  return { authorization: `Bearer ${await signTestGrant(service, { ...call, tool, deadline })}` };
}
