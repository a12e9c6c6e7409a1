import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { Public, PUBLIC_ROUTE } from './index.js';

describe('Public', () => {
  it('records its reason on the route and on the controller', () => {
    @Public('the OpenAPI document')
    class DocsController {
      @Public('health probes')
      live(): void {}
    }
    const reflector = new Reflector();
    expect(reflector.get(PUBLIC_ROUTE, DocsController)).toBe('the OpenAPI document');
    expect(reflector.get(PUBLIC_ROUTE, DocsController.prototype.live)).toBe('health probes');
  });

  it('refuses to mark a route public without saying why', () => {
    expect(() => Public('')).toThrow('Public(reason): say why the route needs no token');
    expect(() => Public('   ')).toThrow('Public(reason)');
    expect(() => (Public as (reason?: string) => unknown)()).toThrow('Public(reason)');
  });
});
