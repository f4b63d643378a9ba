import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { RefusalAuditor } from '../audit/refusal-auditor';
import { AppError, ServiceUnavailableError, UnauthorizedError } from '../common/errors/app-error';
import { isDatabaseUnavailable } from '../common/errors/db-errors';
import { routePlan } from '../common/route-plan';
import type { AuthPolicy } from './auth.decorators';
import { WANTS_WALLET } from './jwt.strategy';
import type { Principal } from './principal';

/**
 * Global: every route needs a valid access token unless it says @Public() (or takes a refresh token).
 * Refusals are audited (ADMIN_ACCESS_DENIED on admin routes, else the route's @Audit() event).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly refusals: RefusalAuditor,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = routePlan(context);
    if (plan.isPublic) return true;
    const policy: AuthPolicy = plan.policy ?? {};
    try {
      if (policy.wallet) WANTS_WALLET.add(context.switchToHttp().getRequest<object>());
      await super.canActivate(context);
      const wanted = policy.token ?? 'access';
      const user = context.switchToHttp().getRequest<{ user: Principal }>().user;
      if (user.tokenType !== wanted) {
        throw new UnauthorizedError(
          `This route needs ${wanted === 'access' ? 'an access' : 'a refresh'} token.`,
          'WRONG_TOKEN_TYPE',
        );
      }
      return true;
    } catch (err) {
      if (err instanceof AppError)
        await this.refusals.guardRefusal(context, err, policy.roles?.includes('ADMIN') ?? false);
      throw err;
    }
  }

  override handleRequest<TUser = Principal>(err: unknown, user: unknown, info: unknown): TUser {
    if (err instanceof AppError) throw err;
    // the session could not be read: the database is down, not the token invalid (503, not 401)
    if (err && isDatabaseUnavailable(err)) throw new ServiceUnavailableError();
    if (err) throw new UnauthorizedError('The token is not valid.', 'INVALID_TOKEN');
    if (!user) {
      const name = info instanceof Error ? info.name : '';
      if (name === 'TokenExpiredError')
        throw new UnauthorizedError('The token has expired.', 'TOKEN_EXPIRED');
      const msg = info instanceof Error ? info.message : '';
      if (msg === 'No auth token')
        throw new UnauthorizedError('Authentication is required: send a Bearer token.');
      throw new UnauthorizedError('The token is not valid.', 'INVALID_TOKEN');
    }
    return user as TUser;
  }
}
