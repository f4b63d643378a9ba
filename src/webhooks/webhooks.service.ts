import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { NotFoundError, ValidationFailedError } from '../common/errors/app-error';
import { EventBus } from '../common/events/event-bus';
import type { RequestMeta } from '../common/http/request-meta';
import { MaintenanceState } from '../common/maintenance';
import type { Page } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { NotificationsService, type StoredNotification } from '../notifications/notifications.service';
import type { Role } from '../users/user.entity';
import { BlockedTargetError, isBlockedAddress, resolveAll } from './ssrf-guard';
import { newSecret } from './signing';
import type { WebhookDeliveryEntity } from './webhook-delivery.entity';
import type { WebhookEndpointEntity } from './webhook-endpoint.entity';
import { WebhooksRepository } from './webhooks.repository';

/** What an endpoint may subscribe to. */
export const USER_EVENTS = ['notification', 'offer'] as const;
/** Platform events, for admins' endpoints. */
export const ADMIN_EVENTS = ['deposit.requested', 'withdrawal.requested'] as const;
export const WEBHOOK_EVENTS = [...USER_EVENTS, ...ADMIN_EVENTS] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export class WebhookNotFoundError extends NotFoundError {
  constructor(what = 'Webhook') {
    super(`${what} not found.`, 'WEBHOOK_NOT_FOUND');
  }
}

export interface Actor extends AuditActor {
  id: number;
  role: Role;
}

interface Subscription {
  endpointId: number;
  userId: number;
  role: string;
  events: Set<string>;
}

/** `msg_` and 32 hex characters: a delivery's `webhook-id`. */
const eventId = (): string => `msg_${randomUUID().replace(/-/g, '')}`;

/** How often every instance reloads the subscriptions (changes on other instances also come by EventBus). */
const SUBSCRIPTIONS_RELOAD_MS = 30_000;

/**
 * Webhook endpoints and the outbox. An event for an endpoint is a `webhook_deliveries` row written in
 * the same transaction as the change it reports (a notification, an offer's change, a platform event);
 * WebhookDispatcher delivers it after the commit and retries it. The active endpoints' subscriptions
 * are kept in memory (reloaded on every change, broadcast to every instance, and every 30 s), so a
 * change for a user without webhooks costs no query.
 */
@Injectable()
export class WebhooksService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(WebhooksService.name);
  private subs = new Map<number, Subscription[]>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private readonly afterCommitListeners: (() => void)[] = [];

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly events: EventBus,
    maintenance: MaintenanceState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    events.subscribe((e) => {
      if (e.type === 'webhooks') void this.reload().catch(() => undefined);
    });
    maintenance.onDataReplaced(() => void this.reload().catch(() => undefined));
  }

  onModuleInit(): void {
    // every stored notification goes to its owner's endpoints, in the notification's transaction
    this.notifications.addSink((stored, m) =>
      this.enqueueForUsers(
        'notification',
        stored.map((n) => ({
          userId: n.userId,
          data: {
            event_type: n.eventType,
            title: n.title,
            message: n.message,
            ref_type: n.refType === '' ? null : n.refType,
            ref_id: n.refId === 0 ? null : n.refId,
            created_at: n.createdAt.toISOString(),
          },
        })),
        m,
      ),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reload().catch((err: unknown) =>
      this.logger.warn(
        `webhook subscriptions not loaded: ${err instanceof Error ? err.message : String(err)}`,
      ),
    );
  }

  /** Called (synchronously) after a transaction that wrote deliveries commits: the dispatcher sends them. */
  onDeliveriesCommitted(listener: () => void): void {
    this.afterCommitListeners.push(listener);
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      const rows = await this.repo.activeEndpoints();
      const next = new Map<number, Subscription[]>();
      for (const e of rows) {
        const list = next.get(e.userId) ?? [];
        list.push({
          endpointId: e.id,
          userId: e.userId,
          role: e.ownerRole,
          events: new Set(e.events.split(',')),
        });
        next.set(e.userId, list);
      }
      this.subs = next;
      this.loadedAt = Date.now();
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /**
   * The subscriptions as this instance has them. Never waits for a query: it is read inside other
   * transactions, which must not wait for a connection of their own (a full pool would wait forever);
   * a stale copy is reloaded in the background (changes arrive at once anyway, by EventBus).
   */
  private subscriptions(): Map<number, Subscription[]> {
    if (Date.now() - this.loadedAt > SUBSCRIPTIONS_RELOAD_MS) void this.reload().catch(() => undefined);
    return this.subs;
  }

  private changed(m: EntityManager): void {
    this.tx.afterCommit(m, () => {
      void this.reload().catch(() => undefined);
      this.events.publish({ type: 'webhooks' });
    });
  }

  /** The outbox rows for `type` events of these users' subscribed endpoints, in `m`'s transaction. */
  async enqueueForUsers(
    type: WebhookEvent,
    items: { userId: number; data: unknown }[],
    m: EntityManager,
  ): Promise<void> {
    if (items.length === 0) return;
    const subs = this.subscriptions();
    const rows: Omit<WebhookDeliveryEntity, 'id'>[] = [];
    for (const item of items) {
      for (const s of subs.get(item.userId) ?? []) {
        if (s.events.has(type)) rows.push(this.deliveryRow(s.endpointId, type, item.data));
      }
    }
    await this.write(rows, m);
  }

  /** A platform event for every admin endpoint subscribed to it, in `m`'s transaction. */
  async enqueuePlatform(type: (typeof ADMIN_EVENTS)[number], data: unknown, m: EntityManager): Promise<void> {
    const subs = this.subscriptions();
    const rows: Omit<WebhookDeliveryEntity, 'id'>[] = [];
    for (const list of subs.values())
      for (const s of list)
        if (s.role === 'ADMIN' && s.events.has(type)) rows.push(this.deliveryRow(s.endpointId, type, data));
    await this.write(rows, m);
  }

  private async write(rows: Omit<WebhookDeliveryEntity, 'id'>[], m: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    await this.repo.insertDeliveries(rows, m);
    this.tx.afterCommit(m, () => {
      for (const l of this.afterCommitListeners) l();
    });
  }

  private deliveryRow(endpointId: number, type: string, data: unknown): Omit<WebhookDeliveryEntity, 'id'> {
    const now = this.clock.now();
    return {
      endpointId,
      eventId: eventId(),
      eventType: type,
      payload: JSON.stringify({ type, timestamp: now.toISOString(), data }),
      status: 'PENDING',
      attempts: 0,
      nextAttemptAt: now,
      lastStatusCode: null,
      lastError: null,
      claimedBy: null,
      claimedUntil: null,
      createdAt: now,
      deliveredAt: null,
    };
  }

  /**
   * The target's rules: a URL of at most 2,000 characters, https (http only with WEBHOOK_ALLOW_HTTP),
   * no credentials, and a host that resolves only to public addresses (unless WEBHOOK_ALLOW_PRIVATE).
   */
  private async checkTarget(raw: string): Promise<URL> {
    const bad = (message: string): never => {
      throw new ValidationFailedError(
        [{ field: 'url', message }],
        `The webhook URL is not allowed: ${message}.`,
      );
    };
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return bad('not a valid absolute URL');
    }
    const w = this.config.webhooks;
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && w.allowHttp))
      bad(w.allowHttp ? 'must be http or https' : 'must be https');
    if (url.username !== '' || url.password !== '') bad('must not carry credentials');
    if (url.hash !== '') bad('must not have a fragment');
    if (!w.allowPrivate) {
      let addresses: string[];
      try {
        addresses = await resolveAll(url.hostname);
      } catch {
        return bad(`its host ${url.hostname} does not resolve`);
      }
      const blocked = addresses.find((a) => isBlockedAddress(a));
      if (blocked) bad(new BlockedTargetError(blocked).message);
    }
    return url;
  }

  private checkEvents(events: string[], role: Role): string[] {
    const unique = [...new Set(events)];
    for (const e of unique) {
      if ((ADMIN_EVENTS as readonly string[]).includes(e) && role !== 'ADMIN')
        throw new ValidationFailedError([{ field: 'events', message: `${e} is for admins' endpoints` }]);
    }
    return unique;
  }

  /** POST /webhooks: a new endpoint; its secret is in this answer only. */
  async create(p: Actor, url: string, events: string[], meta: RequestMeta): Promise<WebhookEndpointEntity> {
    const target = await this.checkTarget(url);
    const subscribed = this.checkEvents(events, p.role);
    const now = this.clock.now();
    return this.tx.run(async (m) => {
      if ((await this.repo.countEndpoints(p.id, m)) >= this.config.webhooks.maxPerUser) {
        throw new ValidationFailedError(
          [{ field: 'url', message: `at most ${this.config.webhooks.maxPerUser} webhooks per account` }],
          `You have ${this.config.webhooks.maxPerUser} webhooks already; delete one first.`,
        );
      }
      const endpoint = await this.repo.insertEndpoint(
        {
          userId: p.id,
          url: target.toString(),
          events: subscribed.join(','),
          secret: newSecret(),
          previousSecret: null,
          previousSecretUntil: null,
          status: 'ACTIVE',
          disabledReason: null,
          failingSince: null,
          createdAt: now,
          updatedAt: now,
        },
        m,
      );
      await this.audit.record(
        {
          event: AuditEvent.WEBHOOK_CREATE,
          action: 'create webhook',
          success: true,
          statusCode: 201,
          message: `webhook ${endpoint.id}: ${target.origin}`,
          actor: p,
          targetUserId: p.id,
          metadata: { webhook_id: endpoint.id, host: target.host, events: subscribed },
          request: meta,
        },
        m,
      );
      this.changed(m);
      return endpoint;
    });
  }

  list(p: Actor): Promise<WebhookEndpointEntity[]> {
    return this.repo.listEndpoints(p.id);
  }

  /** The caller's endpoint; another user's (or a missing one) is 404. */
  async own(p: Actor, id: number, m?: EntityManager): Promise<WebhookEndpointEntity> {
    const e = await this.repo.findEndpoint(id, m);
    if (!e || e.userId !== p.id) throw new WebhookNotFoundError();
    return e;
  }

  async remove(p: Actor, id: number, meta: RequestMeta): Promise<void> {
    await this.tx.run(async (m) => {
      const e = await this.own(p, id, m);
      await this.repo.deleteEndpoint(e.id, m);
      await this.audit.record(
        {
          event: AuditEvent.WEBHOOK_DELETE,
          action: 'delete webhook',
          success: true,
          statusCode: 200,
          actor: p,
          targetUserId: p.id,
          metadata: { webhook_id: e.id },
          request: meta,
        },
        m,
      );
      this.changed(m);
    });
  }

  /** A new secret; the previous one still signs for WEBHOOK_SECRET_OVERLAP_SECONDS. */
  async rotate(p: Actor, id: number, meta: RequestMeta): Promise<WebhookEndpointEntity> {
    return this.tx.run(async (m) => {
      const e = await this.own(p, id, m);
      const now = this.clock.now();
      const patch = {
        secret: newSecret(),
        previousSecret: e.secret,
        previousSecretUntil: new Date(now.getTime() + this.config.webhooks.secretOverlapSeconds * 1000),
        updatedAt: now,
      };
      await this.repo.updateEndpoint(e.id, patch, m);
      await this.audit.record(
        {
          event: AuditEvent.WEBHOOK_ROTATE_SECRET,
          action: 'rotate webhook secret',
          success: true,
          statusCode: 200,
          actor: p,
          targetUserId: p.id,
          metadata: { webhook_id: e.id, previous_valid_until: patch.previousSecretUntil.toISOString() },
          request: meta,
        },
        m,
      );
      return { ...e, ...patch };
    });
  }

  async deliveries(
    p: Actor,
    id: number,
    page: Page,
  ): Promise<{ rows: WebhookDeliveryEntity[]; total: number }> {
    const e = await this.own(p, id);
    return this.repo.listDeliveries(e.id, page);
  }

  /** One more attempt of a FAILED delivery, now. */
  async retry(p: Actor, id: number, deliveryId: number): Promise<WebhookDeliveryEntity> {
    const e = await this.own(p, id);
    const d = await this.repo.findDelivery(deliveryId, e.id);
    if (!d) throw new WebhookNotFoundError('Delivery');
    if (d.status !== 'FAILED')
      throw new ValidationFailedError(
        [{ field: 'delivery_id', message: `is ${d.status}: only a FAILED delivery is retried` }],
        'Only a failed delivery can be retried.',
      );
    if (e.status !== 'ACTIVE')
      throw new ValidationFailedError(
        [{ field: 'id', message: 'the webhook is disabled' }],
        'The webhook is disabled.',
      );
    await this.repo.requeue(d.id, e.id, this.clock.now());
    for (const l of this.afterCommitListeners) l();
    return (await this.repo.findDelivery(deliveryId, e.id)) ?? d;
  }

  /** A `ping` event to the endpoint, now (whatever it subscribed to). */
  async test(p: Actor, id: number): Promise<WebhookDeliveryEntity> {
    return this.tx.run(async (m) => {
      const e = await this.own(p, id, m);
      if (e.status !== 'ACTIVE')
        throw new ValidationFailedError(
          [{ field: 'id', message: 'the webhook is disabled' }],
          'The webhook is disabled.',
        );
      const row = this.deliveryRow(e.id, 'ping', { webhook_id: e.id, message: 'This is a test event.' });
      await this.write([row], m);
      return { ...row, id: 0 };
    });
  }

  /** Disables an endpoint that failed for WEBHOOK_DISABLE_AFTER_HOURS, gives up its deliveries, tells its owner. */
  async disable(endpoint: WebhookEndpointEntity, reason: string): Promise<void> {
    await this.tx.run(async (m) => {
      await this.repo.updateEndpoint(
        endpoint.id,
        { status: 'DISABLED', disabledReason: reason.slice(0, 300), updatedAt: this.clock.now() },
        m,
      );
      await this.repo.failPending(endpoint.id, 'the webhook was disabled', m);
      await this.notifications.notify(
        {
          userId: endpoint.userId,
          eventType: 'WEBHOOK_DISABLED',
          title: 'A webhook was disabled',
          message:
            `Webhook #${endpoint.id} (${new URL(endpoint.url).host}) failed every delivery for ${this.config.webhooks.disableAfterHours} hours and was disabled: ${reason}`.slice(
              0,
              500,
            ),
          refType: 'webhook',
          refId: endpoint.id,
        },
        m,
      );
      this.changed(m);
    });
  }
}

export type { StoredNotification };
