import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/** What live streams push: small, serialisable facts; each instance renders them for its clients. */
export type LiveEvent =
  /** A published reference rate changed: the GET /exchangeRate body. */
  | { type: 'rate'; data: unknown }
  /** The open order book changed: what happened and the offer as others see it. */
  | { type: 'offer'; data: { action: 'created' | 'filled' | 'cancelled' | 'expired'; offer: unknown } }
  /** A user has new notifications (their streams read them from the database). */
  | { type: 'notification'; userId: number }
  /**
   * An account's standing as a rate contributor changed (trust, status): every instance reloads its
   * reference at once instead of at its next periodic load.
   */
  | { type: 'contributors' }
  /** An admin set the official rate: every instance reloads it. */
  | { type: 'official' }
  /** Webhook endpoints changed: every instance reloads their subscriptions. */
  | { type: 'webhooks' };

type Listener = (event: LiveEvent) => void;

const CHANNEL = 'exchange:live-events';

/**
 * Publishes live events to every instance's subscribers: through Redis pub/sub when REDIS_URL is
 * set (each instance, this one included, receives what any instance publishes), in process
 * otherwise. While Redis cannot be reached, an event reaches this instance's subscribers only (and
 * that is logged once); ioredis reconnects and resubscribes by itself.
 */
@Injectable()
export class EventBus implements OnApplicationShutdown {
  private readonly logger = new Logger('EventBus');
  private readonly listeners = new Set<Listener>();
  private readonly pub: Redis | null = null;
  private readonly sub: Redis | null = null;
  private degraded = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const url = config.rateLimit.redisUrl;
    if (!url) return;
    const options = {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1000,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
    };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, { ...options, enableOfflineQueue: true });
    for (const c of [this.pub, this.sub]) c.on('error', () => undefined);
    void this.sub.subscribe(CHANNEL).catch(() => undefined);
    this.sub.on('message', (_channel: string, message: string) => {
      try {
        this.deliver(JSON.parse(message) as LiveEvent);
      } catch {
        // not one of ours
      }
    });
  }

  /** Registers a listener; returns its removal. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LiveEvent): void {
    const pub = this.pub;
    if (!pub) return this.deliver(event);
    if (pub.status !== 'ready' || this.sub?.status !== 'ready') {
      this.fallBack('not connected');
      return this.deliver(event);
    }
    pub.publish(CHANNEL, JSON.stringify(event)).then(
      () => this.recovered(),
      (err: unknown) => {
        this.fallBack(err instanceof Error ? err.message : String(err));
        this.deliver(event);
      },
    );
  }

  private deliver(event: LiveEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error(`live event listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private fallBack(why: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`Redis unavailable (${why}): live events reach this instance's streams only`);
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log('Redis is back: live events reach every instance again');
  }

  onApplicationShutdown(): void {
    this.listeners.clear();
    this.pub?.disconnect();
    this.sub?.disconnect();
  }
}
