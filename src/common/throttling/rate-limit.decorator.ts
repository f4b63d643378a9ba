import { SetMetadata } from '@nestjs/common';

export const RATE_LIMIT_GROUP = 'rate-limit:group';

/**
 * Named limits. The auth groups count per client IP and per user name (or user); the money groups
 * count per authenticated user.
 */
export const RATE_LIMIT_GROUPS = [
  'login',
  'register',
  'refresh',
  'transaction',
  'offer',
  'funding',
  'quote',
  'stream',
  'history',
  'webhook',
] as const;
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number];

/** Puts a route under one named limit group. */
export const RateLimit = (group: RateLimitGroup): MethodDecorator => SetMetadata(RATE_LIMIT_GROUP, group);

/** Injection token of the rate-limit store's state (RateLimitState: where the counters live now). */
export const RATE_LIMIT_STATE = Symbol('RATE_LIMIT_STATE');
