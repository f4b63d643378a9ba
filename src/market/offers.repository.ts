import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, type EntityManager } from 'typeorm';
import type { Currency } from '../common/money';
import type { Page } from '../common/pagination';
import { dbDate, dialectOf } from '../database/dialect';
import { ReadReplica } from '../database/read-replica';
import { insertOne } from '../database/insert';
import { OfferEntity, type OfferStatus } from './offer.entity';
import { TradeEntity } from './trade.entity';
import { wantAfter } from './fill-pricing';
import { EntityRows } from '../database/entity-rows';
import { newestFirstPage, sqlPage } from '../database/paging';

export interface OpenOfferFilter {
  now: Date;
  /** Leave out this user's offers. */
  excludeUserId: number | null;
  giveCurrency?: Currency;
  sort: 'created_at' | 'rate';
  order: 'ASC' | 'DESC';
}

export interface TradeFilter {
  userId: number;
  from?: Date;
  to?: Date;
  offerId?: number;
}

/** What open offers hold in their makers' held balances (a WalletService hold source). */
export const OPEN_OFFER_HOLDS = `SELECT creator_user_id AS user_id,
    CASE WHEN give_currency = 'USD' THEN remaining_give_amount ELSE 0 END AS usd,
    CASE WHEN give_currency = 'LBP' THEN remaining_give_amount ELSE 0 END AS lbp
  FROM offers WHERE status = 'OPEN'`;

@Injectable()
export class OffersRepository {
  private readonly rows: EntityRows<OfferEntity>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reads: ReadReplica,
  ) {
    this.rows = new EntityRows(dataSource, OfferEntity, 'o');
  }

  // Without a manager: a replica when the service routed the read there (ReadReplica.run), else the
  // primary.
  private offers(m?: EntityManager) {
    return (m ?? this.reads.manager()).getRepository(OfferEntity);
  }

  private trades(m?: EntityManager) {
    return (m ?? this.reads.manager()).getRepository(TradeEntity);
  }

  async insert(row: Omit<OfferEntity, 'id'>, m: EntityManager): Promise<OfferEntity> {
    return { ...row, id: await insertOne(m, OfferEntity, row) };
  }

  findById(id: number, m?: EntityManager): Promise<OfferEntity | null> {
    return this.offers(m).findOne({ where: { id } });
  }

  /**
   * The offer as last committed, locked until the transaction ends (FOR UPDATE on MySQL; on SQLite
   * the transaction is the only writer). Every state change of an offer starts here, so takes,
   * cancels and expiry of one offer run one after the other and always see its current remainder.
   */
  countOpen(): Promise<number> {
    return this.offers().count({ where: { status: 'OPEN' } });
  }

  /** The offer as committed, without a lock. */
  find(id: number): Promise<OfferEntity | null> {
    return this.dataSource.manager.getRepository(OfferEntity).findOne({ where: { id } });
  }

  findForUpdate(id: number, m: EntityManager): Promise<OfferEntity | null> {
    const qb = this.offers(m).createQueryBuilder('o').where('o.id = :id', { id });
    if (dialectOf(m) === 'mysql') qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  /**
   * Compare-and-set of a take: moves `fill` and `pay` off the remainders only if the offer is still
   * OPEN with exactly the remainders the caller saw. Returns whether it applied.
   */
  async applyFill(
    o: Pick<OfferEntity, 'id' | 'remainingGiveAmount' | 'remainingWantAmount'>,
    fill: bigint,
    pay: bigint,
    now: Date,
    m: EntityManager,
  ): Promise<boolean> {
    const done = fill === o.remainingGiveAmount;
    const res = await m
      .createQueryBuilder()
      .update(OfferEntity)
      .set({
        remainingGiveAmount: () => 'remaining_give_amount - :fill',
        remainingWantAmount: wantAfter(o, pay),
        receivedWantAmount: () => 'received_want_amount + :pay',
        status: done ? 'COMPLETED' : 'OPEN',
        closedAt: done ? now : null,
        updatedAt: now,
      })
      .where('id = :id AND status = :open', { id: o.id, open: 'OPEN' })
      .andWhere('remaining_give_amount = :seenGive AND remaining_want_amount = :seenWant', {
        seenGive: o.remainingGiveAmount,
        seenWant: o.remainingWantAmount,
      })
      .setParameters({ fill, pay })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  /** Compare-and-set of a cancel or expiry: OPEN with the seen remainder → closed, remainder refunded. */
  async close(
    o: Pick<OfferEntity, 'id' | 'remainingGiveAmount'>,
    status: Extract<OfferStatus, 'CANCELLED' | 'EXPIRED'>,
    now: Date,
    m: EntityManager,
  ): Promise<boolean> {
    const res = await m
      .createQueryBuilder()
      .update(OfferEntity)
      .set({ status, refundedAmount: o.remainingGiveAmount, closedAt: now, updatedAt: now })
      .where('id = :id AND status = :open AND remaining_give_amount = :seen', {
        id: o.id,
        open: 'OPEN',
        seen: o.remainingGiveAmount,
      })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  /**
   * Offers open for taking at `now` (OPEN and not past expiry), paged (hand-written SQL: the
   * marketplace's list is read on every visit), on the replica when the service routed the read there.
   */
  listOpen(f: OpenOfferFilter, page: Page): Promise<{ rows: OfferEntity[]; total: number }> {
    const where = ['o.status = ?', '(o.expires_at IS NULL OR o.expires_at > ?)'];
    const params: unknown[] = ['OPEN', dbDate(dialectOf(this.dataSource), f.now)];
    if (f.excludeUserId !== null) {
      where.push('o.creator_user_id <> ?');
      params.push(f.excludeUserId);
    }
    if (f.giveCurrency) {
      where.push('o.give_currency = ?');
      params.push(f.giveCurrency);
    }
    const order = f.order === 'ASC' ? 'ASC' : 'DESC';
    const orderBy = `o.${f.sort === 'rate' ? 'rate' : 'created_at'} ${order}, o.id ${order}`;
    return sqlPage(this.reads.manager(), this.rows, { where: where.join(' AND '), params, orderBy }, page);
  }

  /**
   * A user's offers in any status (or one, as readers see it: an OPEN offer past its expiry counts as
   * EXPIRED), newest first.
   */
  listByCreator(
    userId: number,
    status: OfferStatus | undefined,
    now: Date,
    page: Page,
  ): Promise<{ rows: OfferEntity[]; total: number }> {
    const qb = this.offers().createQueryBuilder('o').where('o.creator_user_id = :userId', { userId });
    const due = 'o.status = :open AND o.expires_at IS NOT NULL AND o.expires_at <= :now';
    if (status === 'OPEN') qb.andWhere(`o.status = :open AND NOT (${due})`, { open: 'OPEN', now });
    else if (status === 'EXPIRED')
      qb.andWhere(
        new Brackets((b) =>
          b.where('o.status = :expired', { expired: 'EXPIRED' }).orWhere(due, { open: 'OPEN', now }),
        ),
      );
    else if (status) qb.andWhere('o.status = :status', { status });
    return newestFirstPage(qb, 'o', page);
  }

  /**
   * OPEN offers past their expiry, oldest expiry first, after the cursor (keyset on expires_at, id, so
   * a sweep moves past offers it could not expire).
   */
  async findDue(
    now: Date,
    limit: number,
    after: { expiresAt: Date; id: number } | null = null,
  ): Promise<{ id: number; expiresAt: Date }[]> {
    const qb = this.offers()
      .createQueryBuilder('o')
      .select(['o.id', 'o.expiresAt'])
      .where('o.status = :open AND o.expires_at <= :now', { open: 'OPEN', now });
    if (after) {
      qb.andWhere(
        new Brackets((b) =>
          b
            .where('o.expires_at > :ce', { ce: after.expiresAt })
            .orWhere('o.expires_at = :ce AND o.id > :ci', { ce: after.expiresAt, ci: after.id }),
        ),
      );
    }
    const rows = await qb.orderBy('o.expires_at', 'ASC').addOrderBy('o.id', 'ASC').take(limit).getMany();
    return rows.map((o) => ({ id: o.id, expiresAt: o.expiresAt ?? now }));
  }

  async insertTrade(row: Omit<TradeEntity, 'id'>, m: EntityManager): Promise<TradeEntity> {
    return { ...row, id: await insertOne(m, TradeEntity, row) };
  }

  /** A user's trades (either side), newest first. */
  listTrades(f: TradeFilter, page: Page): Promise<{ rows: TradeEntity[]; total: number }> {
    const qb = this.trades()
      .createQueryBuilder('t')
      .where(
        new Brackets((b) =>
          b.where('t.buyer_user_id = :u', { u: f.userId }).orWhere('t.seller_user_id = :u', { u: f.userId }),
        ),
      );
    if (f.from) qb.andWhere('t.created_at >= :from', { from: f.from });
    if (f.to) qb.andWhere('t.created_at <= :to', { to: f.to });
    if (f.offerId !== undefined) qb.andWhere('t.offer_id = :offerId', { offerId: f.offerId });
    return newestFirstPage(qb, 't', page);
  }
}
