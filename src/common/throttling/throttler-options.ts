import { createHash } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import type { Principal } from '../../auth/principal';
import type { AppConfig } from '../../config/app-config';
import { userNameOf } from './app-throttler.guard';
import { RATE_LIMIT_GROUP, RATE_LIMIT_GROUPS, type RateLimitGroup } from './rate-limit.decorator';
import type { RedisThrottlerStorage } from './redis-throttler.storage';

function groupOf(context: ExecutionContext): RateLimitGroup | undefined {
  return Reflect.getMetadata(RATE_LIMIT_GROUP, context.getHandler()) as RateLimitGroup | undefined;
}

type TrackedRequest = { ip?: string; user?: Principal; body?: unknown };

/**
 * Per-account tracker. Money groups: the authenticated user. Auth groups: the account's lower-cased
 * user name, whether it came from a token or from the body, so that POST /login, POST /auth/fresh and
 * PUT /user/password spend one budget per account; without either, the IP.
 */
function userTracker(req: TrackedRequest, byName: boolean): string {
  if (req.user) return byName ? `name:${req.user.userName.toLowerCase()}` : `user:${req.user.id}`;
  const name = userNameOf(req);
  return name ? `name:${name}` : `ip:${req.ip ?? 'unknown'}`;
}

interface GroupLimit {
  limit: number;
  ttlSeconds: number;
  /** Also count per client IP (the auth routes, reachable without an account). */
  perIp: boolean;
}

export function buildThrottlerOptions(
  config: AppConfig,
  redisStorage: RedisThrottlerStorage | null,
): ThrottlerModuleOptions {
  const rl = config.rateLimit;
  const auth = (limit: number): GroupLimit => ({ limit, ttlSeconds: rl.authTtlSeconds, perIp: true });
  const groups: Record<RateLimitGroup, GroupLimit> = {
    login: auth(rl.loginLimit),
    register: auth(rl.registerLimit),
    refresh: auth(rl.refreshLimit),
    transaction: {
      limit: config.money.transactionLimit,
      ttlSeconds: config.money.transactionTtlSeconds,
      perIp: false,
    },
    offer: { limit: config.money.offerLimit, ttlSeconds: config.money.offerTtlSeconds, perIp: false },
    funding: {
      limit: config.funding.rateLimit,
      ttlSeconds: config.funding.rateLimitTtlSeconds,
      perIp: false,
    },
    quote: { limit: config.house.rateLimit, ttlSeconds: config.house.rateLimitTtlSeconds, perIp: false },
    // public: counted per client IP (and per account when one calls it signed in)
    history: { limit: rl.historyLimit, ttlSeconds: rl.historyTtlSeconds, perIp: true },
    webhook: { limit: rl.webhookLimit, ttlSeconds: rl.webhookTtlSeconds, perIp: false },
    stream: {
      limit: config.stream.ticketRateLimit,
      ttlSeconds: config.stream.ticketRateLimitTtlSeconds,
      perIp: false,
    },
  };
  const throttlers: ThrottlerOptions[] = RATE_LIMIT_GROUPS.flatMap((group) => {
    const g = groups[group];
    const common = {
      ttl: g.ttlSeconds * 1000,
      limit: g.limit,
      skipIf: (ctx: ExecutionContext) => groupOf(ctx) !== group,
      // One counter per group and client, whichever route of the group is called (the default key
      // also holds the route, which would give e.g. offer creation and acceptance separate budgets).
      generateKey: (_ctx: ExecutionContext, tracker: string, name: string) =>
        createHash('sha256').update(`${name}\n${tracker}`).digest('hex'),
    };
    const perUser: ThrottlerOptions = {
      ...common,
      name: `${group}-user`,
      getTracker: (req: TrackedRequest) => userTracker(req, g.perIp),
    };
    if (!g.perIp) return [perUser];
    return [
      { ...common, name: `${group}-ip`, getTracker: (req: TrackedRequest) => `ip:${req.ip ?? 'unknown'}` },
      perUser,
    ];
  });
  return {
    throttlers,
    setHeaders: false,
    ...(redisStorage ? { storage: redisStorage } : {}),
  };
}
