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
] as const;
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number];

/** Puts a route under one named limit group. */
export const RateLimit = (group: RateLimitGroup): MethodDecorator => SetMetadata(RATE_LIMIT_GROUP, group);
