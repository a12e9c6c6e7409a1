import { Controller, Get, Header, Inject } from '@nestjs/common';
import { RegistryChangeSigner, type Jwks } from '@toolbus/registry-client';
import { Public } from '@toolbus/security';

/** The public keys the registry signs its change events with, as a JWKS. */
@Controller()
@Public(
  'public keys: every catalog reader verifies change events with them before it holds a token',
)
export class JwksController {
  constructor(@Inject(RegistryChangeSigner) private readonly signer: RegistryChangeSigner) {}

  @Get('.well-known/jwks.json')
  // Readers reload on an unknown kid; nothing between them and the registry may hold on to it.
  @Header('cache-control', 'no-cache')
  jwks(): Promise<Jwks> {
    return this.signer.jwks();
  }
}
