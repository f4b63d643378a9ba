import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, LessThanOrEqual, MoreThan } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { EventBus } from '../common/events/event-bus';
import type { RequestMeta } from '../common/http/request-meta';
import { MaintenanceState } from '../common/maintenance';
import type { Page } from '../common/pagination';
import { insertOne } from '../database/insert';
import { TransactionRunner } from '../database/transaction-runner';
import { OfficialRateEntity } from './official-rate.entity';

/** How long this instance trusts its copy of the official series (other instances' changes also arrive by EventBus). */
const RELOAD_MS = 30_000;

export interface NewOfficialRate {
  usdToLbp: number;
  lbpToUsd: number;
  source: string;
  effectiveAt: Date;
}

/**
 * The official rate as a series set by admins (PUT /admin/rates/official): the entry with the newest
 * `effective_at` not in the future is in force. Kept in memory (the entry in force and the scheduled
 * ones), so GET /exchangeRate adds it and its gap without a query; reloaded when an admin sets one
 * (on every instance, through EventBus) and at least every 30 s.
 */
@Injectable()
export class OfficialRateService {
  private cache: {
    inForce: OfficialRateEntity | null;
    upcoming: OfficialRateEntity[];
    loadedAt: number;
  } | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly events: EventBus,
    maintenance: MaintenanceState,
  ) {
    maintenance.onDataReplaced(() => this.invalidate());
    events.subscribe((e) => {
      if (e.type === 'official') this.invalidate();
    });
  }

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(OfficialRateEntity);
  }

  private invalidate(): void {
    this.cache = null;
  }

  private pick(now: Date): OfficialRateEntity | null {
    const c = this.cache;
    if (!c) return null;
    let inForce = c.inForce;
    for (const u of c.upcoming) {
      if (u.effectiveAt.getTime() <= now.getTime() && (!inForce || u.effectiveAt >= inForce.effectiveAt))
        inForce = u;
    }
    return inForce;
  }

  /** The entry in force now, or null (none set); undefined while this instance has not loaded it yet. */
  peek(): OfficialRateEntity | null | undefined {
    const now = this.clock.now();
    if (
      !this.cache ||
      now.getTime() - this.cache.loadedAt > RELOAD_MS ||
      now.getTime() < this.cache.loadedAt
    ) {
      void this.load().catch(() => undefined);
      if (!this.cache) return undefined;
    }
    return this.pick(now);
  }

  /** The entry in force now, or null. */
  async current(): Promise<OfficialRateEntity | null> {
    const seen = this.peek();
    if (seen !== undefined) return seen;
    await this.load();
    return this.pick(this.clock.now());
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const now = this.clock.now();
      const [inForce, upcoming] = await Promise.all([
        this.repo().findOne({
          where: { effectiveAt: LessThanOrEqual(now) },
          order: { effectiveAt: 'DESC', id: 'DESC' },
        }),
        this.repo().find({
          where: { effectiveAt: MoreThan(now) },
          order: { effectiveAt: 'ASC', id: 'ASC' },
          take: 100,
        }),
      ]);
      this.cache = { inForce, upcoming, loadedAt: now.getTime() };
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** PUT /admin/rates/official: a new entry of the series, audited in the same transaction. */
  async set(
    actor: AuditActor & { id: number },
    input: NewOfficialRate,
    meta: RequestMeta,
  ): Promise<OfficialRateEntity> {
    const now = this.clock.now();
    const row: Omit<OfficialRateEntity, 'id'> = { ...input, createdBy: actor.id, createdAt: now };
    const saved = await this.tx.run(async (m) => {
      const before = await this.repo(m).findOne({
        where: { effectiveAt: LessThanOrEqual(now) },
        order: { effectiveAt: 'DESC', id: 'DESC' },
      });
      const entry: OfficialRateEntity = { ...row, id: await insertOne(m, OfficialRateEntity, row) };
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_OFFICIAL_RATE_SET,
          action: 'set official rate',
          success: true,
          statusCode: 200,
          message: `official rate ${entry.usdToLbp}/${entry.lbpToUsd} (${entry.source}) from ${entry.effectiveAt.toISOString()}`,
          actor,
          metadata: {
            official_rate_id: entry.id,
            usd_to_lbp: entry.usdToLbp,
            lbp_to_usd: entry.lbpToUsd,
            source: entry.source,
            effective_at: entry.effectiveAt.toISOString(),
            previous: before
              ? {
                  id: before.id,
                  usd_to_lbp: before.usdToLbp,
                  lbp_to_usd: before.lbpToUsd,
                  source: before.source,
                }
              : null,
          },
          request: meta,
        },
        m,
      );
      this.tx.afterCommit(m, () => {
        this.invalidate();
        this.events.publish({ type: 'official' });
      });
      return entry;
    });
    return saved;
  }

  /** The series, newest effective first. */
  history(
    range: { from?: Date; to?: Date },
    page: Page,
  ): Promise<{ rows: OfficialRateEntity[]; total: number }> {
    const qb = this.repo().createQueryBuilder('o');
    if (range.from) qb.andWhere('o.effective_at >= :from', { from: range.from });
    if (range.to) qb.andWhere('o.effective_at <= :to', { to: range.to });
    return qb
      .orderBy('o.effective_at', 'DESC')
      .addOrderBy('o.id', 'DESC')
      .take(page.limit)
      .skip(page.offset)
      .getManyAndCount()
      .then(([rows, total]) => ({ rows, total }));
  }

  /** The official mid (between its two directions), for valuing LBP while no reference is published. */
  static midOf(o: OfficialRateEntity): number {
    return (o.usdToLbp + o.lbpToUsd) / 2;
  }
}
