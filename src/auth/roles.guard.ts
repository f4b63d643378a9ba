import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RefusalAuditor } from '../audit/refusal-auditor';
import { ForbiddenError } from '../common/errors/app-error';
import { routePlan } from '../common/route-plan';
import type { AuthPolicy } from './auth.decorators';
import type { Principal } from './principal';

/** Role check (and freshness, below) read the principal the JWT guard just loaded from the database. */
abstract class PolicyGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly refusals: RefusalAuditor,
  ) {}

  protected policy(context: ExecutionContext): AuthPolicy | null {
    return routePlan(context).policy;
  }

  protected user(context: ExecutionContext): Principal | undefined {
    return context.switchToHttp().getRequest<{ user?: Principal }>().user;
  }

  /** Refusals are audited: ADMIN_ACCESS_DENIED on admin routes, else under the route's @Audit() event. */
  protected async refuse(
    context: ExecutionContext,
    policy: AuthPolicy,
    error: ForbiddenError,
  ): Promise<never> {
    await this.refusals.guardRefusal(context, error, policy.roles?.includes('ADMIN') ?? false);
    throw error;
  }

  abstract canActivate(context: ExecutionContext): Promise<boolean>;
}

@Injectable()
export class RolesGuard extends PolicyGuard {
  constructor(reflector: Reflector, refusals: RefusalAuditor) {
    super(reflector, refusals);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.policy(context);
    if (!policy?.roles?.length) return true;
    const user = this.user(context);
    if (user && policy.roles.includes(user.role)) return true;
    return this.refuse(
      context,
      policy,
      new ForbiddenError('This action needs the admin role.', 'FORBIDDEN_ROLE'),
    );
  }
}

@Injectable()
export class FreshTokenGuard extends PolicyGuard {
  constructor(reflector: Reflector, refusals: RefusalAuditor) {
    super(reflector, refusals);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.policy(context);
    if (!policy?.fresh) return true;
    if (this.user(context)?.fresh) return true;
    return this.refuse(
      context,
      policy,
      new ForbiddenError(
        'This action needs a fresh token: confirm your password at POST /auth/fresh.',
        'FRESH_TOKEN_REQUIRED',
      ),
    );
  }
}
