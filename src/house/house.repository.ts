import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull, MoreThan, MoreThanOrEqual } from 'typeorm';
import { CURRENCIES, type Currency, toBigInt } from '../common/money';
import type { Page } from '../common/pagination';
import { dbDate, dialectOf, exactInt } from '../database/dialect';
import { insertOne } from '../database/insert';
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
    return { ...row, id: await insertOne(this.m(m), QuoteEntity, row) };
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
    return { ...row, id: await insertOne(m, ConversionEntity, row) };
  }

  listConversions(userId: number, page: Page): Promise<{ rows: ConversionEntity[]; total: number }> {
    const qb = this.m()
      .getRepository(ConversionEntity)
      .createQueryBuilder('c')
      .where('c.user_id = :userId', { userId });
    return newestFirstPage(qb, 'c', page);
  }

  /** The USD legs of the user's conversions since `since` (minor units). */
  async usdConvertedSince(userId: number, since: Date, m: EntityManager): Promise<bigint> {
    const d = dialectOf(m);
    const rows: { total: unknown }[] = await m.query(
      `SELECT ${exactInt(d, "SUM(CASE WHEN from_currency = 'USD' THEN from_amount ELSE to_amount END)")} AS total
        FROM conversions WHERE user_id = ? AND created_at >= ?`,
      [userId, dbDate(d, since)],
    );
    return rows[0]?.total == null ? 0n : toBigInt(rows[0].total);
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
   * Creates the position rows that are missing (the first conversion ever, or a database from
   * before conversions) from the ledger as `m` sees it; an existing row is left as it is.
   */
  async ensurePositions(now: Date, m: EntityManager): Promise<void> {
    const stored = await this.positions(m, false);
    const missing = CURRENCIES.filter((c) => stored[c] === null);
    if (missing.length === 0) return;
    const ledger = await this.ledgerPositions(m);
    await m
      .createQueryBuilder()
      .insert()
      .into(HousePositionEntity)
      .values(missing.map((currency) => ({ currency, amount: ledger[currency], updatedAt: now })))
      .orIgnore()
      .execute();
  }

  /** The positions, locked until the transaction ends (conversions one at a time). */
  async lockPositions(m: EntityManager): Promise<Positions> {
    const stored = await this.positions(m, true);
    if (stored.USD === null || stored.LBP === null)
      throw new Error('house positions missing (ensurePositions first)');
    return { USD: stored.USD, LBP: stored.LBP };
  }

  /** Adds the deltas to the positions (locked by the caller) in one statement. */
  async addToPositions(deltas: Positions, now: Date, m: EntityManager): Promise<void> {
    const moved = CURRENCIES.filter((c) => deltas[c] !== 0n);
    if (moved.length === 0) return;
    // the deltas are bigints we computed: written as integer literals, not user input
    const cases = moved.map((c) => `WHEN '${c}' THEN ${deltas[c].toString()}`).join(' ');
    await m
      .createQueryBuilder()
      .update(HousePositionEntity)
      .set({ amount: () => `amount + CASE currency ${cases} ELSE 0 END`, updatedAt: now })
      .where('currency IN (:...moved)', { moved })
      .execute();
  }
}
