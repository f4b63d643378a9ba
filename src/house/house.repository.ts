import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull, MoreThan, MoreThanOrEqual } from 'typeorm';
import { CURRENCIES, type Currency, toBigInt } from '../common/money';
import type { Page } from '../common/pagination';
import { dialectOf, exactInt } from '../database/dialect';
import { insertedId } from '../database/insert';
import { newestFirstPage } from '../database/paging';
import { ConversionEntity } from './conversion.entity';
import { HousePositionEntity } from './house-position.entity';
import { QuoteEntity } from './quote.entity';

export type Positions = Record<Currency, bigint>;

@Injectable()
export class HouseRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  async insertQuote(row: Omit<QuoteEntity, 'id'>, m?: EntityManager): Promise<QuoteEntity> {
    const res = await this.m(m)
      .getRepository(QuoteEntity)
      .insert({ ...row });
    return { ...row, id: insertedId(res) };
  }

  findQuote(id: number, m?: EntityManager): Promise<QuoteEntity | null> {
    return this.m(m).getRepository(QuoteEntity).findOne({ where: { id } });
  }

  /** Marks the user's quote used if it is unused and unexpired: true for exactly one caller. */
  async claimQuote(id: number, userId: number, now: Date, m: EntityManager): Promise<boolean> {
    const res = await m
      .getRepository(QuoteEntity)
      .update({ id, userId, usedAt: IsNull(), expiresAt: MoreThan(now) }, { usedAt: now });
    return (res.affected ?? 0) === 1;
  }

  async insertConversion(row: Omit<ConversionEntity, 'id'>, m: EntityManager): Promise<ConversionEntity> {
    const res = await m.getRepository(ConversionEntity).insert({ ...row });
    return { ...row, id: insertedId(res) };
  }

  listConversions(userId: number, page: Page): Promise<{ rows: ConversionEntity[]; total: number }> {
    const qb = this.m()
      .getRepository(ConversionEntity)
      .createQueryBuilder('c')
      .where('c.user_id = :userId', { userId });
    return newestFirstPage(qb, 'c', page);
  }

  countConversionsSince(since: Date): Promise<number> {
    return this.m()
      .getRepository(ConversionEntity)
      .count({ where: { createdAt: MoreThanOrEqual(since) } });
  }

  /** The house's legs summed per currency, from the ledger itself. */
  async ledgerPositions(m?: EntityManager): Promise<Positions> {
    const em = this.m(m);
    const rows: { currency: Currency; total: unknown }[] = await em.query(
      `SELECT currency, ${exactInt(dialectOf(em), 'SUM(amount)')} AS total FROM ledger_entries
        WHERE account = 'house' GROUP BY currency`,
    );
    const out: Positions = { USD: 0n, LBP: 0n };
    for (const r of rows) out[r.currency] = toBigInt(r.total);
    return out;
  }

  /** The stored positions (missing currencies: null). */
  async positions(m?: EntityManager, lock = false): Promise<Record<Currency, bigint | null>> {
    const em = this.m(m);
    const qb = em.getRepository(HousePositionEntity).createQueryBuilder('p').orderBy('p.currency', 'ASC');
    if (lock && dialectOf(em) === 'mysql') qb.setLock('pessimistic_write');
    const rows = await qb.getMany();
    const out: Record<Currency, bigint | null> = { USD: null, LBP: null };
    for (const r of rows) out[r.currency] = r.amount;
    return out;
  }

  /**
   * The positions, locked until the transaction ends (conversions one at a time); rows missing (the
   * first conversion ever, or a database from before conversions) are created from the ledger.
   */
  async lockPositions(now: Date, m: EntityManager): Promise<Positions> {
    let stored = await this.positions(m, true);
    if (CURRENCIES.some((c) => stored[c] === null)) {
      const ledger = await this.ledgerPositions(m);
      const missing = CURRENCIES.filter((c) => stored[c] === null);
      await m
        .createQueryBuilder()
        .insert()
        .into(HousePositionEntity)
        .values(missing.map((currency) => ({ currency, amount: ledger[currency], updatedAt: now })))
        .orIgnore()
        .execute();
      stored = await this.positions(m, true);
    }
    return { USD: stored.USD ?? 0n, LBP: stored.LBP ?? 0n };
  }

  async addToPositions(deltas: Positions, now: Date, m: EntityManager): Promise<void> {
    for (const currency of CURRENCIES) {
      if (deltas[currency] === 0n) continue;
      await m
        .createQueryBuilder()
        .update(HousePositionEntity)
        .set({ amount: () => `amount + ${deltas[currency].toString()}`, updatedAt: now })
        .where('currency = :currency', { currency })
        .execute();
    }
  }
}
