import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { BusinessRuleError } from '../common/errors/app-error';
import { isUniqueViolation } from '../common/errors/db-errors';
import type { RequestMeta } from '../common/http/request-meta';
import type { Page } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { NotificationsService } from '../notifications/notifications.service';
import { round6 } from '../rates/market.service';
import { ReferenceRateService } from '../rates/reference-rate.service';
import { DIRECTIONS, type Direction } from '../rates/rate-sample.entity';
import type { CreateWatchlistItemDto } from './dto/watchlist.dto';
import type { MarketFigures } from './watchlist.mapper';
import { dedupeKeyOf, type WatchlistItemEntity } from './watchlist-item.entity';
import { WatchlistDuplicateError, WatchlistItemNotFoundError } from './watchlist.errors';
import { WatchlistRepository } from './watchlist.repository';

// Threshold items notify on each crossing, both ways: reaching the threshold on their condition's
// side notifies and disarms; going back across it by more than WATCHLIST_HYSTERESIS_PERCENT of the
// threshold notifies and re-arms; inside that band nothing happens, so a hovering market cannot flap.
// Direction items notify when |24 h change| reaches WATCHLIST_MOVE_PERCENT, once per UTC day.

/** Items per user are capped, so one account cannot make every sweep expensive. */
export const MAX_WATCHLIST_ITEMS_PER_USER = 100;

export const WATCHLIST_THRESHOLD_CROSSED = 'WATCHLIST_THRESHOLD_CROSSED';
export const WATCHLIST_BIG_MOVE = 'WATCHLIST_BIG_MOVE';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Items handled per page of a sweep (each item is then its own short transaction). */
const SWEEP_PAGE = 200;

export interface DirectionFigures extends MarketFigures {
  /** The market rate 24 h ago (same window, ending then). */
  rate24hAgo: number | null;
}

export interface WatchlistSweepResult {
  thresholdNotified: number;
  rearmed: number;
  bigMoveNotified: number;
}

const fmt = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** 24 h change in percent; null unless both rates are known. */
export function changePercent(current: number | null, past: number | null): number | null {
  if (current === null || past === null || past <= 0) return null;
  return round6(((current - past) / past) * 100);
}

@Injectable()
export class WatchlistService {
  constructor(
    private readonly repo: WatchlistRepository,
    private readonly reference: ReferenceRateService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Adds an item (duplicate of the same user, type, direction, condition, threshold → 409) and its audit row. */
  async create(p: Principal, dto: CreateWatchlistItemDto, meta: RequestMeta): Promise<WatchlistItemEntity> {
    const isThreshold = dto.item_type === 'threshold';
    const condition = isThreshold ? (dto.condition ?? null) : null;
    const threshold = isThreshold ? (dto.threshold ?? null) : null;
    const now = this.clock.now();
    try {
      return await this.tx.run(async (m) => {
        if ((await this.repo.countByUser(p.id, m)) >= MAX_WATCHLIST_ITEMS_PER_USER) {
          throw new BusinessRuleError(
            'WATCHLIST_LIMIT_REACHED',
            `You can watch at most ${MAX_WATCHLIST_ITEMS_PER_USER} items.`,
          );
        }
        const item = await this.repo.insert(
          {
            userId: p.id,
            itemType: dto.item_type,
            direction: dto.direction,
            condition,
            threshold,
            // A new threshold item is armed: if the market is already beyond it, the next sweep says so.
            armed: true,
            dedupeKey: dedupeKeyOf(dto.item_type, dto.direction, condition, threshold),
            lastNotifiedAt: null,
            lastNotifiedDay: '',
            createdAt: now,
          },
          m,
        );
        await this.recordAudit(p, AuditEvent.WATCHLIST_ADD, 'add watchlist item', 201, item, meta, m);
        return item;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new WatchlistDuplicateError();
      throw err;
    }
  }

  /** The user's items, newest first, each with its direction's market figures. */
  async list(
    userId: number,
    page: Page,
  ): Promise<{ rows: { item: WatchlistItemEntity; figures: MarketFigures }[]; total: number }> {
    const { rows, total } = await this.repo.listOwn(userId, page);
    const now = this.clock.now();
    const figures = new Map<Direction, DirectionFigures>();
    for (const d of new Set(rows.map((r) => r.direction))) figures.set(d, await this.figures(d, now));
    return {
      rows: rows.map((item) => ({
        item,
        figures: figures.get(item.direction) ?? { currentRate: null, change24hPercent: null },
      })),
      total,
    };
  }

  /** Deletes one of the user's items (another user's → 404, like a missing one) with its audit row. */
  async remove(p: Principal, id: number, meta: RequestMeta): Promise<void> {
    await this.tx.run(async (m) => {
      const item = await this.repo.findOwn(p.id, id, m);
      if (!item || (await this.repo.deleteOwn(p.id, id, m)) === 0) throw new WatchlistItemNotFoundError();
      await this.recordAudit(p, AuditEvent.WATCHLIST_REMOVE, 'remove watchlist item', 200, item, meta, m);
    });
  }

  /**
   * The reference rate of a direction now (as GET /exchangeRate) and 24 h ago (over the window ending
   * then), and the change between them.
   */
  async figures(direction: Direction, now: Date = this.clock.now()): Promise<DirectionFigures> {
    const [current, dayAgo] = await Promise.all([
      this.reference.published(),
      this.reference.referenceAt(direction, new Date(now.getTime() - DAY_MS)),
    ]);
    const currentRate = current[direction].rate;
    const rate24hAgo = dayAgo.rate;
    return { currentRate, rate24hAgo, change24hPercent: changePercent(currentRate, rate24hAgo) };
  }

  /**
   * One pass over every item; safe to run on several instances at once: each notification follows a
   * conditional update (disarm / mark the day) in the same transaction, and the notification's unique
   * key (user, event, item, occasion) refuses a second copy anyway.
   */
  async sweep(): Promise<WatchlistSweepResult> {
    const now = this.clock.now();
    const result: WatchlistSweepResult = { thresholdNotified: 0, rearmed: 0, bigMoveNotified: 0 };
    for (const direction of DIRECTIONS) {
      const f = await this.figures(direction, now);
      if (f.currentRate !== null) {
        const rate = f.currentRate;
        const back = await this.notifyCrossingsBack(direction, rate, now);
        result.rearmed += back;
        result.thresholdNotified += back + (await this.notifyCrossings(direction, rate, now));
      }
      if (f.change24hPercent !== null && Math.abs(f.change24hPercent) >= this.config.watchlist.movePercent) {
        result.bigMoveNotified += await this.notifyBigMoves(direction, f, now);
      }
    }
    return result;
  }

  private async notifyCrossings(direction: Direction, rate: number, now: Date): Promise<number> {
    let notified = 0;
    for (let afterId = 0; ;) {
      const items = await this.repo.crossedArmed(direction, rate, afterId, SWEEP_PAGE);
      for (const item of items) {
        const condition = item.condition ?? 'above';
        const threshold = item.threshold ?? 0;
        const stored = await this.tx.run(async (m) => {
          if ((await this.repo.disarm(item.id, now, m)) === 0) return false; // another sweep won
          return this.notifications.notify(
            {
              userId: item.userId,
              eventType: WATCHLIST_THRESHOLD_CROSSED,
              title: `${direction} ${condition} ${fmt(threshold)}`,
              message: `The ${direction} market rate is ${fmt(rate)}, ${condition} your threshold of ${fmt(threshold)}.`,
              refType: 'watchlist',
              refId: item.id,
              occasion: now.toISOString(),
            },
            m,
          );
        });
        if (stored) notified += 1;
      }
      if (items.length < SWEEP_PAGE) return notified;
      afterId = items[items.length - 1].id;
    }
  }

  /**
   * The other half of "each crossing": items whose market went back across their threshold, beyond the
   * hysteresis band, re-arm and say so (one notification per crossing back, as its re-arm decides).
   */
  private async notifyCrossingsBack(direction: Direction, rate: number, now: Date): Promise<number> {
    const band = this.config.watchlist.hysteresisPercent / 100;
    let notified = 0;
    for (let afterId = 0; ;) {
      const items = await this.repo.backBehind(direction, rate, band, afterId, SWEEP_PAGE);
      for (const item of items) {
        const threshold = item.threshold ?? 0;
        const side = item.condition === 'below' ? 'above' : 'below';
        const stored = await this.tx.run(async (m) => {
          if ((await this.repo.rearm(item.id, now, m)) === 0) return false; // another sweep won
          return this.notifications.notify(
            {
              userId: item.userId,
              eventType: WATCHLIST_THRESHOLD_CROSSED,
              title: `${direction} back ${side} ${fmt(threshold)}`,
              message: `The ${direction} market rate is ${fmt(rate)}, back ${side} your threshold of ${fmt(threshold)}.`,
              refType: 'watchlist',
              refId: item.id,
              occasion: `${now.toISOString()}:back`,
            },
            m,
          );
        });
        if (stored) notified += 1;
      }
      if (items.length < SWEEP_PAGE) return notified;
      afterId = items[items.length - 1].id;
    }
  }

  private async notifyBigMoves(direction: Direction, f: DirectionFigures, now: Date): Promise<number> {
    const day = now.toISOString().slice(0, 10);
    const change = f.change24hPercent ?? 0;
    const verb = change > 0 ? 'rose' : 'fell';
    let notified = 0;
    for (let afterId = 0; ;) {
      const items = await this.repo.dueForDay(direction, day, afterId, SWEEP_PAGE);
      for (const item of items) {
        const stored = await this.tx.run(async (m) => {
          if ((await this.repo.markDay(item.id, day, now, m)) === 0) return false;
          return this.notifications.notify(
            {
              userId: item.userId,
              eventType: WATCHLIST_BIG_MOVE,
              title: `${direction} ${verb} ${fmt(Math.abs(change))}% in 24 h`,
              message:
                `The ${direction} market rate ${verb} from ${fmt(f.rate24hAgo ?? 0)} to ` +
                `${fmt(f.currentRate ?? 0)} (${change > 0 ? '+' : ''}${fmt(change)}%) over the last 24 hours.`,
              refType: 'watchlist',
              refId: item.id,
              occasion: day,
            },
            m,
          );
        });
        if (stored) notified += 1;
      }
      if (items.length < SWEEP_PAGE) return notified;
      afterId = items[items.length - 1].id;
    }
  }

  private recordAudit(
    p: Principal,
    event: typeof AuditEvent.WATCHLIST_ADD | typeof AuditEvent.WATCHLIST_REMOVE,
    action: string,
    statusCode: number,
    item: WatchlistItemEntity,
    meta: RequestMeta,
    m: EntityManager,
  ): Promise<void> {
    return this.audit.record(
      {
        event,
        action,
        success: true,
        statusCode,
        actor: { id: p.id, userName: p.userName },
        targetUserId: p.id,
        metadata: {
          watchlist_item_id: item.id,
          item_type: item.itemType,
          direction: item.direction,
          condition: item.condition,
          threshold: item.threshold,
        },
        request: meta,
      },
      m,
    );
  }
}
