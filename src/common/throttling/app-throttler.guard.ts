import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AuditEvent } from '../../audit/audit-events';
import { AuditService } from '../../audit/audit.service';
import type { Principal } from '../../auth/principal';
import { RateLimitedError } from '../errors/app-error';
import { routePlan } from '../route-plan';
import { requestMetaOf } from '../http/request-meta';
import { RATE_LIMIT_GROUP } from './rate-limit.decorator';
import { markAudited } from '../errors/audited';
import { METRICS } from '../../metrics/metrics';

type Req = Parameters<typeof requestMetaOf>[0] & { user?: Principal; body?: unknown };

/**
 * The throttler guard, answering in the contract's shape: 429 RATE_LIMITED with a plain Retry-After,
 * and one RATE_LIMIT_HIT audit row per blocked client and window.
 */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  private readonly audited = new Map<string, number>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly auditService: AuditService,
  ) {
    super(options, storage, reflector);
  }

  /** Routes without a limit group are never throttled (every throttler skips them): no work for them. */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (routePlan(context).rateLimitGroup === undefined) return true;
    return super.canActivate(context);
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const req = context.switchToHttp().getRequest<Req>();
    const group = this.reflector.get<string | undefined>(RATE_LIMIT_GROUP, context.getHandler()) ?? 'default';
    METRICS.rateLimitHits.inc({ group });
    const now = Date.now();
    if ((this.audited.get(detail.key) ?? 0) < now) {
      this.audited.set(detail.key, now + detail.timeToBlockExpire * 1000);
      if (this.audited.size > 10_000) this.audited.clear();
      await this.auditService.record({
        event: AuditEvent.RATE_LIMIT_HIT,
        action:
          `${req.method ?? ''} ${(req as { routeOptions?: { url?: string } }).routeOptions?.url ?? ''}`.trim(),
        success: false,
        statusCode: 429,
        message: 'rate limit exceeded',
        actor: req.user ? { id: req.user.id, userName: req.user.userName } : null,
        metadata: {
          group: this.reflector.get<string | undefined>(RATE_LIMIT_GROUP, context.getHandler()) ?? null,
          limit: detail.limit,
          ttl_ms: detail.ttl,
          user_name: userNameOf(req),
        },
        request: requestMetaOf(req),
      });
    }
    const err = new RateLimitedError(detail.timeToBlockExpire);
    markAudited(err);
    throw err;
  }
}

export function userNameOf(req: { body?: unknown }): string | null {
  const body = req.body as { user_name?: unknown } | undefined;
  return typeof body?.user_name === 'string' ? body.user_name.toLowerCase().slice(0, 64) : null;
}
