import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  IdempotencyKey,
  Principal,
  Region,
  Scope,
  TenantId,
  ToolName,
  type JsonObject,
} from '@toolbus/contracts';
import type { JWK } from 'jose';
import { signEdDsaJwt } from './eddsa-jwt.js';
import { z } from 'zod';
import { inputHash } from './input-hash.js';

/** The only algorithm a call grant is signed or verified with. */
export const CALL_GRANT_ALG = 'EdDSA';
/** The JOSE `typ` of a call grant, so no other JWT signed by the same key passes for one. */
export const CALL_GRANT_TYP = 'toolbus-call-grant+jwt';

/** The claims of a call grant as signed (JWT names, kept short: the grant rides every call). */
export const CallGrantClaims = z.object({
  iss: z.string().min(1),
  aud: z.string().min(1).describe('The consumer service the call is for'),
  sub: z.string().min(1).max(256).describe("The principal's subject"),
  kind: Principal.shape.kind,
  name: z.string().max(256).optional().describe("The principal's display name"),
  tenant: TenantId,
  scopes: z.array(Scope).max(256),
  region: Region,
  tool: ToolName,
  ver: z.string().max(64).optional().describe('The tool version'),
  idk: IdempotencyKey,
  cid: z.string().min(1).max(128).describe('The call id'),
  ih: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url SHA-256')
    .describe('SHA-256 of the canonical JSON of the input'),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type CallGrantClaims = z.infer<typeof CallGrantClaims>;

/** A verified call grant: what the consumer may trust about the call, whatever the body says. */
export interface CallGrant {
  issuer: string;
  audience: string;
  tool: string;
  version?: string;
  /** The caller, as the dispatcher authenticated it (no `regions`: the grant names the region). */
  principal: Principal;
  tenant: string;
  scopes: string[];
  region: string;
  idempotencyKey: string;
  callId: string;
  inputHash: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
}

/** Why a grant was refused: each reason is safe to show the caller. */
export type CallGrantRefusal =
  | 'missing'
  | 'malformed'
  | 'signature'
  | 'issuer'
  | 'expired'
  | 'audience'
  | 'tool'
  | 'input'
  | 'idempotency_key'
  | 'keys_unavailable';

/** A call grant that does not authorize the call; `reason` says why, `message` in words. */
export class CallGrantError extends Error {
  override readonly name = 'CallGrantError';
  constructor(
    readonly reason: CallGrantRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** What a grant is signed for: the fields of a `ToolCallRequested` the grant binds. */
export interface GrantedCall {
  callId: string;
  idempotencyKey: string;
  tool: string;
  toolVersion?: string;
  input: JsonObject;
  principal: Principal;
  tenant: string;
  region: string;
  /** RFC 3339; the grant expires no later than this. */
  deadline: string;
}

export interface CallGrantSignerOptions {
  /** An Ed25519 private key. */
  key: KeyObject;
  /** The key id verifiers find the public key by in their JWKS. */
  kid: string;
  /** `iss` of every grant; verifiers expect it. */
  issuer: string;
  /** Longest life of a grant whatever the deadline. Default 300 s. */
  maxTtlSeconds?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Signs call grants: the dispatcher's (the orchestrator's) statement that one call, with this
 * input, for this principal, tenant and region, may run on one consumer service until its
 * deadline. A compact JWS, EdDSA with an Ed25519 key, `typ` {@link CALL_GRANT_TYP}. The grant
 * expires at the call's deadline or after `maxTtlSeconds`, whichever is first (so a call
 * whose deadline has passed gets a grant that is already expired).
 *
 * Keys rotate without downtime: publish the new public key in the verifiers' JWKS beside the
 * old one, then switch the signer to the new key and `kid`, and drop the old key once the
 * longest-lived grant signed with it has expired.
 */
export class CallGrantSigner {
  private readonly maxTtlSeconds: number;
  private readonly now: () => number;

  constructor(private readonly options: CallGrantSignerOptions) {
    if (options.key.type !== 'private' || options.key.asymmetricKeyType !== 'ed25519')
      throw new Error('a call grant signing key must be an Ed25519 private key');
    if (!options.kid) throw new Error('a call grant signing key needs a kid');
    this.maxTtlSeconds = options.maxTtlSeconds ?? 300;
    this.now = options.now ?? Date.now;
  }

  /**
   * A signer whose private key is read from a file by reference (a mounted Secret): a PKCS#8
   * PEM, or a JWK (JSON with `d`; its `kid` is used unless `kid` is given).
   */
  static fromFile(
    options: Omit<CallGrantSignerOptions, 'key' | 'kid'> & {
      keyFile: string;
      kid?: string;
    },
  ): CallGrantSigner {
    const text = readFileSync(options.keyFile, 'utf8');
    let key: KeyObject;
    let kid = options.kid;
    try {
      if (text.trimStart().startsWith('{')) {
        const jwk = JSON.parse(text) as JWK;
        key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
        kid ??= jwk.kid;
      } else {
        key = createPrivateKey(text);
      }
    } catch (error) {
      throw new Error(
        `${options.keyFile} is not a PEM or JWK private key: ${(error as Error).message}`,
      );
    }
    if (!kid) throw new Error(`give the kid of ${options.keyFile} (the JWK has none)`);
    const { keyFile: _file, ...rest } = options;
    return new CallGrantSigner({ ...rest, key, kid });
  }

  /** The public half as a JWK for the verifiers' JWKS (`kid`, `alg`, `use`). */
  publicJwk(): JWK {
    const jwk = createPublicKey(this.options.key).export({ format: 'jwk' }) as JWK;
    return { ...jwk, kid: this.options.kid, alg: CALL_GRANT_ALG, use: 'sig' };
  }

  /** Signs a grant for `call` to run on the consumer service `audience`. */
  async sign(call: GrantedCall, audience: string): Promise<string> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const deadline = Date.parse(call.deadline);
    if (Number.isNaN(deadline))
      throw new Error(`the call's deadline "${call.deadline}" is not a date`);
    const exp = Math.min(Math.floor(deadline / 1000), nowSeconds + this.maxTtlSeconds);
    const claims: Omit<CallGrantClaims, 'iss' | 'aud' | 'sub' | 'iat' | 'exp'> = {
      kind: call.principal.kind,
      ...(call.principal.displayName ? { name: call.principal.displayName } : {}),
      tenant: call.tenant,
      scopes: call.principal.scopes,
      region: call.region,
      tool: call.tool,
      ...(call.toolVersion ? { ver: call.toolVersion } : {}),
      idk: call.idempotencyKey,
      cid: call.callId,
      ih: inputHash(call.input),
    };
    return signEdDsaJwt(
      { kid: this.options.kid, typ: CALL_GRANT_TYP },
      {
        ...claims,
        iss: this.options.issuer,
        aud: audience,
        sub: call.principal.subject,
        iat: nowSeconds,
        exp,
      },
      this.options.key,
    );
  }
}

/** The grant's claims as the consumer uses them. */
export function callGrantOf(claims: CallGrantClaims): CallGrant {
  return {
    issuer: claims.iss,
    audience: claims.aud,
    tool: claims.tool,
    ...(claims.ver ? { version: claims.ver } : {}),
    principal: {
      subject: claims.sub,
      kind: claims.kind,
      tenant: claims.tenant,
      scopes: claims.scopes,
      ...(claims.name ? { displayName: claims.name } : {}),
    },
    tenant: claims.tenant,
    scopes: claims.scopes,
    region: claims.region,
    idempotencyKey: claims.idk,
    callId: claims.cid,
    inputHash: claims.ih,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
  };
}
