import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Role } from '../users/user.entity';
import type { Principal, TokenType } from './principal';

export const IS_PUBLIC = 'auth:public';
export const AUTH_POLICY = 'auth:policy';

export interface AuthPolicy {
  roles?: Role[];
  fresh?: boolean;
  /** Which token the route takes; refresh-token routes are /refresh and /logout_refresh. */
  token?: TokenType;
  /** The caller's wallet is read with the session (one query) into `Principal.wallet`. */
  wallet?: boolean;
}

/** No token needed. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * The route's whole auth requirement in one place: roles, freshness and token type, plus the
 * matching OpenAPI bearer requirement and error responses.
 */
export function Auth(policy: AuthPolicy = {}): MethodDecorator & ClassDecorator {
  const needs: string[] = [];
  if (policy.roles?.length) needs.push(`role ${policy.roles.join(' or ')}`);
  if (policy.fresh) needs.push('a fresh access token (FRESH_TOKEN_REQUIRED)');
  return applyDecorators(
    SetMetadata(AUTH_POLICY, policy),
    ApiBearerAuth('bearer'),
    ApiUnauthorizedResponse({
      description: `Missing, invalid, expired or revoked ${policy.token ?? 'access'} token`,
    }),
    ApiForbiddenResponse({
      description: `Account not active${needs.length ? `, or lacks ${needs.join(' and ')}` : ''}`,
    }),
  );
}

export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ user: Principal }>();
  return req.user;
});
