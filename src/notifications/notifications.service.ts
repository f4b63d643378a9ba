import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors/app-error';
import type { Page } from '../common/pagination';
import { TransactionRunner } from '../database/transaction-runner';
import type { NotificationEntity } from './notification.entity';
import { NotificationsRepository } from './notifications.repository';
import { METRICS } from '../metrics/metrics';
import { EventBus } from '../common/events/event-bus';

export interface NewNotification {
  userId: number;
  eventType: string;
  title: string;
  message: string;
  refType?: string;
  refId?: number;
  /** Which occurrence: events that can happen again for the same object name it (e.g. a day). */
  occasion?: string;
}

/** A notification as stored (its id is not read back). */
export type StoredNotification = Omit<NotificationEntity, 'id'>;

/** Work that joins a notification's transaction (e.g. the webhooks' outbox). */
export type NotificationSink = (stored: StoredNotification[], m: EntityManager) => Promise<void>;

export class NotificationNotFoundError extends NotFoundError {
  constructor() {
    super('Notification not found.', 'NOTIFICATION_NOT_FOUND');
  }
}

/** The inbox every feature writes to; notify() joins the caller's transaction. */
@Injectable()
export class NotificationsService {
  private readonly sinks: NotificationSink[] = [];

  constructor(
    private readonly repo: NotificationsRepository,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  /** Registers work every stored notification takes part in, in its transaction. */
  addSink(sink: NotificationSink): void {
    this.sinks.push(sink);
  }

  /**
   * Stores a notification inside the caller's transaction (or its own), at most once per
   * (user, event, object, occasion); returns whether this call stored it.
   */
  notify(n: NewNotification, m?: EntityManager): Promise<boolean> {
    return this.tx.within(m, async (tm) => (await this.notifyAll([n], tm))[0]);
  }

  /**
   * Several notifications in one statement (e.g. both sides of a trade); if one of them exists
   * already, each is stored on its own so the others still are. Returns, per notification, whether
   * this call stored it.
   */
  async notifyAll(list: NewNotification[], m: EntityManager): Promise<boolean[]> {
    const rows = list.map((n) => this.rowOf(n));
    let stored: boolean[];
    if (rows.length > 1 && (await this.repo.insertAllOrNone(rows, m))) stored = rows.map(() => true);
    else {
      stored = [];
      for (const row of rows) stored.push(await this.repo.insertOnce(row, m));
    }
    rows.forEach((row, i) => {
      if (!stored[i]) return;
      this.tx.afterCommit(m, () => {
        METRICS.notifications.inc({ event_type: row.eventType });
        this.events.publish({ type: 'notification', userId: row.userId });
      });
    });
    const fresh = rows.filter((_, i) => stored[i]);
    for (const sink of this.sinks) await sink(fresh, m);
    return stored;
  }

  private rowOf(n: NewNotification): Omit<NotificationEntity, 'id'> {
    return {
      userId: n.userId,
      eventType: n.eventType,
      title: n.title.slice(0, 120),
      message: n.message.slice(0, 500),
      refType: n.refType ?? '',
      refId: n.refId ?? 0,
      occasion: (n.occasion ?? '').slice(0, 64),
      isRead: false,
      createdAt: this.clock.now(),
    };
  }

  list(
    userId: number,
    unreadOnly: boolean,
    page: Page,
  ): Promise<{ rows: NotificationEntity[]; total: number }> {
    return this.repo.list(userId, unreadOnly, page);
  }

  /** The user's notifications after `afterId`, oldest first (what a live stream has not sent yet). */
  after(userId: number, afterId: number, limit: number): Promise<NotificationEntity[]> {
    return this.repo.after(userId, afterId, limit);
  }

  /** The id of the user's newest notification, 0 without one. */
  latestId(userId: number): Promise<number> {
    return this.repo.latestId(userId);
  }

  unreadCount(userId: number): Promise<number> {
    return this.repo.countUnread(userId);
  }

  /** Marks one of the user's notifications read; another user's id is 404, like a missing one. */
  markRead(userId: number, id: number): Promise<NotificationEntity> {
    return this.tx.run(async (m) => {
      const found = await this.repo.findOwn(userId, id, m);
      if (!found) throw new NotificationNotFoundError();
      if (!found.isRead) await this.repo.markRead(userId, id, m);
      return { ...found, isRead: true };
    });
  }

  markAllRead(userId: number): Promise<number> {
    return this.tx.run((m) => this.repo.markRead(userId, null, m));
  }

  async delete(userId: number, id: number): Promise<void> {
    const deleted = await this.tx.run((m) => this.repo.delete(userId, id, m));
    if (deleted === 0) throw new NotificationNotFoundError();
  }
}
