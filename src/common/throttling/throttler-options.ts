import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import type { Principal } from '../../auth/principal';
import type { AppConfig } from '../../config/app-config';
import { userNameOf } from './app-throttler.guard';
import { RATE_LIMIT_GROUP, RATE_LIMIT_GROUPS, type RateLimitGroup } from './rate-limit.decorator';
import { RedisThrottlerStorage } from './redis-throttler.storage';

function groupOf(context: ExecutionContext): RateLimitGroup | undefined {
  return Reflect.getMetadata(RATE_LIMIT_GROUP, context.getHandler()) as RateLimitGroup | undefined;
}

type TrackedRequest = { ip?: string; user?: Principal; body?: unknown };

/** Per-user tracker: the authenticated user, else the (lower-cased) user name in the body, else the IP. */
function userTracker(req: TrackedRequest): string {
  if (req.user) return `user:${req.user.id}`;
  const name = userNameOf(req);
  return name ? `name:${name}` : `ip:${req.ip ?? 'unknown'}`;
}

export function buildThrottlerOptions(config: AppConfig): ThrottlerModuleOptions {
  const rl = config.rateLimit;
  const limits: Record<RateLimitGroup, number> = {
    login: rl.loginLimit,
    register: rl.registerLimit,
    refresh: rl.refreshLimit,
  };
  const throttlers: ThrottlerOptions[] = RATE_LIMIT_GROUPS.flatMap((group) => [
    {
      name: `${group}-ip`,
      ttl: rl.authTtlSeconds * 1000,
      limit: limits[group],
      skipIf: (ctx: ExecutionContext) => groupOf(ctx) !== group,
      getTracker: (req: TrackedRequest) => `ip:${req.ip ?? 'unknown'}`,
    },
    {
      name: `${group}-user`,
      ttl: rl.authTtlSeconds * 1000,
      limit: limits[group],
      skipIf: (ctx: ExecutionContext) => groupOf(ctx) !== group,
      getTracker: (req: TrackedRequest) => userTracker(req),
    },
  ]);
  return {
    throttlers,
    setHeaders: false,
    ...(rl.redisUrl ? { storage: new RedisThrottlerStorage(rl.redisUrl) } : {}),
  };
}
