import { SetMetadata } from '@nestjs/common';

/** The metadata key `Public` sets and the security library's `AuthGuard` reads. */
export const PUBLIC_ROUTE = 'toolbus:public';

/**
 * Marks a route (or every route of a controller) as callable without a token, and says why:
 * the workspace lint rule `toolbus/guarded-routes` accepts an HTTP route only with an auth guard
 * or this marker, so every public route carries its reason where reviewers read it. It lives
 * here rather than beside `AuthGuard` because the health controller needs it and the security
 * library depends on this one.
 */
export function Public(reason: string): ClassDecorator & MethodDecorator {
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new Error('Public(reason): say why the route needs no token, e.g. "health probes"');
  }
  return SetMetadata(PUBLIC_ROUTE, reason);
}
