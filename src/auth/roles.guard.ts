import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditEvent } from '../audit/audit-events';
import { targetUserIdOf } from '../audit/audit-target';
import { AuditService } from '../audit/audit.service';
import { ForbiddenError } from '../common/errors/app-error';
import { requestMetaOf } from '../common/http/request-meta';
import { AUTH_POLICY, type AuthPolicy, IS_PUBLIC } from './auth.decorators';
import type { Principal } from './principal';

type Req = Parameters<typeof requestMetaOf>[0] & { user?: Principal; params?: Record<string, string> };

/** Role check (and freshness, below) read the principal the JWT guard just loaded from the database. */
abstract class PolicyGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly audit: AuditService,
  ) {}

  protected policy(context: ExecutionContext): AuthPolicy | null {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return null;
    return this.reflector.getAllAndOverride<AuthPolicy | undefined>(AUTH_POLICY, targets) ?? {};
  }

  /** Refusals on admin routes are audited as ADMIN_ACCESS_DENIED. */
  protected async refuse(
    context: ExecutionContext,
    policy: AuthPolicy,
    error: ForbiddenError,
  ): Promise<never> {
    if (policy.roles?.includes('ADMIN')) {
      const req = context.switchToHttp().getRequest<Req>();
      await this.audit.record({
        event: AuditEvent.ADMIN_ACCESS_DENIED,
        action:
          `${req?.method ?? ''} ${(req as { routeOptions?: { url?: string } }).routeOptions?.url ?? ''}`.trim(),
        success: false,
        statusCode: 403,
        message: error.message,
        actor: req.user ? { id: req.user.id, userName: req.user.userName } : null,
        targetUserId: targetUserIdOf(req),
        metadata: { code: error.code, role: req.user?.role ?? null },
        request: requestMetaOf(req),
      });
      error.audited = true;
    }
    throw error;
  }

  abstract canActivate(context: ExecutionContext): Promise<boolean>;
}

@Injectable()
export class RolesGuard extends PolicyGuard {
  constructor(reflector: Reflector, audit: AuditService) {
    super(reflector, audit);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.policy(context);
    if (!policy?.roles?.length) return true;
    const user = context.switchToHttp().getRequest<Req>().user;
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
  constructor(reflector: Reflector, audit: AuditService) {
    super(reflector, audit);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.policy(context);
    if (!policy?.fresh) return true;
    const user = context.switchToHttp().getRequest<Req>().user;
    if (user?.fresh) return true;
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
