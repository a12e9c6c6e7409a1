import { Controller, Get, Header, Inject } from '@nestjs/common';
import { CallGrantSigner, parseGrantJwks } from '@toolbus/security';
import { Public } from '@toolbus/service-kit';
import { readFile, stat } from 'node:fs/promises';

type JSONWebKeySet = ReturnType<typeof parseGrantJwks>;

/**
 * The public keys of the call grants this orchestrator signs, and the extra keys of a rotation
 * in progress. Every replica serves the same set (the signing key comes from one Secret), so a
 * consumer that fetched it from any replica verifies the grants of all of them.
 */
export class CallGrantKeys {
  private extra: JSONWebKeySet['keys'] = [];
  private extraMtimeMs = -1;

  constructor(
    private readonly signer: CallGrantSigner,
    private readonly extraKeysFile?: string,
  ) {}

  /** Refuses to start on an extra-keys file that is missing or holds no usable key. */
  async check(): Promise<void> {
    await this.jwks();
  }

  async jwks(): Promise<JSONWebKeySet> {
    if (this.extraKeysFile) {
      // Re-read when the mounted Secret changes: the next key is published before it signs.
      const { mtimeMs } = await stat(this.extraKeysFile);
      if (mtimeMs !== this.extraMtimeMs) {
        this.extra = parseGrantJwks(
          await readFile(this.extraKeysFile, 'utf8'),
          this.extraKeysFile,
        ).keys;
        this.extraMtimeMs = mtimeMs;
      }
    }
    const current = this.signer.publicJwk();
    return { keys: [current, ...this.extra.filter((key) => key.kid !== current.kid)] };
  }
}

/** `/.well-known/jwks.json`: what the consumers' CALL_GRANT_JWKS_URL points at. */
@Controller()
@Public('public keys: consumers verify call grants with them before any call reaches them')
export class CallGrantKeysController {
  constructor(@Inject(CallGrantKeys) private readonly keys: CallGrantKeys) {}

  @Get('.well-known/jwks.json')
  // Consumers refetch on an unknown kid; nothing between them and the orchestrator may cache it.
  @Header('cache-control', 'no-cache')
  jwks(): Promise<JSONWebKeySet> {
    return this.keys.jwks();
  }
}
