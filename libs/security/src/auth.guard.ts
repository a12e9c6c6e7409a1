import {
  createParamDecorator,
  Inject,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Principal } from '@toolbus/contracts';
import { ProblemError, PUBLIC_ROUTE } from '@toolbus/service-kit';
import { hasScopes, TokenVerifier, UnauthenticatedError } from './tokens.js';

const SCOPES = 'toolbus:scopes';

/** The scopes a route needs (all of them). */
export const RequireScopes = (...scopes: string[]) => SetMetadata(SCOPES, scopes);

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

/** The verified caller of the current request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without AuthGuard');
    return principal;
  },
);

/**
 * Verifies the bearer token of every HTTP request to a controller it guards and checks the
 * route's scopes: 401 problem+json without a valid token, 403 naming the missing scopes.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    // `Public(reason)` stores its reason: any reason means the route needs no token.
    if (this.reflector.getAllAndOverride<string>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    try {
      request.principal = await this.verifier.verifyHeader(
        Array.isArray(header) ? header[0] : header,
      );
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      throw new ProblemError(401, 'unauthenticated', error.message, {
        headers: { 'www-authenticate': 'Bearer realm="toolbus"' },
      });
    }
    const needed = this.reflector.getAllAndOverride<string[]>(SCOPES, targets) ?? [];
    if (!hasScopes(request.principal, needed)) {
      const missing = needed.filter((s) => !hasScopes(request.principal!, [s]));
      throw new ProblemError(403, 'missing_scope', `this needs the scope ${missing.join(', ')}`, {
        missingScopes: missing,
      });
    }
    return true;
  }
}
