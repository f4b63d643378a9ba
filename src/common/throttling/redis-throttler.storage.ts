import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { type ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import Redis from 'ioredis';

interface StorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

// KEYS[1] hit counter, KEYS[2] block marker; ARGV ttl ms, limit, block ms. Atomic across instances.
const SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {hits, ttl, 1, blocked} end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}`;

/** Where the rate-limit counters live right now. */
export type RateLimitMode = 'memory' | 'redis' | 'memory-fallback';

/** What the health check and the metrics read of the counters' store. */
export interface RateLimitState {
  readonly mode: RateLimitMode;
}

/**
 * Throttler counters in Redis so every instance shares them (the community storages declare
 * Nest <= 11 peers; this is the small one of our own, see ARCHITECTURE.md). When Redis cannot be
 * reached, the limits keep working on this instance's own in-memory counters (so they hold per
 * instance for a while) instead of failing requests; the switch is logged once each way, and the
 * store goes back to Redis as soon as it is ready again (ioredis keeps reconnecting).
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown, RateLimitState {
  private readonly logger = new Logger('RateLimits');
  private readonly redis: Redis;
  private readonly fallback = new ThrottlerStorageService();
  private degraded = false;

  constructor(url: string) {
    this.redis = new Redis(url, {
      // fail fast: a request never waits for Redis to come back
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: 500,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    // connection errors are reported through `degraded`, not as unhandled 'error' events
    this.redis.on('error', () => undefined);
    this.redis.on('ready', () => this.setDegraded(false));
  }

  get mode(): RateLimitMode {
    return this.degraded || this.redis.status !== 'ready' ? 'memory-fallback' : 'redis';
  }

  private setDegraded(value: boolean, why?: string): void {
    if (value === this.degraded) return;
    this.degraded = value;
    if (value)
      this.logger.warn(`Redis unavailable (${why ?? 'not connected'}): rate limits now hold per instance`);
    else this.logger.log('Redis is back: rate limits are shared again');
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<StorageRecord> {
    if (this.redis.status !== 'ready') {
      this.setDegraded(true, this.redis.status);
      return this.fallback.increment(key, ttl, limit, blockDuration, name);
    }
    try {
      const res = (await this.redis.eval(
        SCRIPT,
        2,
        `throttle:${name}:${key}`,
        `throttle:${name}:${key}:blocked`,
        String(ttl),
        String(limit),
        String(blockDuration > 0 ? blockDuration : ttl),
      )) as [number, number, number, number];
      this.setDegraded(false);
      const [hits, ttlMs, blocked, blockMs] = res;
      return {
        totalHits: hits,
        timeToExpire: Math.ceil(Math.max(ttlMs, 0) / 1000),
        isBlocked: blocked === 1,
        timeToBlockExpire: Math.ceil(Math.max(blockMs, 0) / 1000),
      };
    } catch (err) {
      this.setDegraded(true, err instanceof Error ? err.message : String(err));
      return this.fallback.increment(key, ttl, limit, blockDuration, name);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.fallback.onApplicationShutdown();
    this.redis.disconnect();
    await Promise.resolve();
  }
}

/** The in-memory store of a single instance (no REDIS_URL). */
export const IN_MEMORY: RateLimitState = { mode: 'memory' };
