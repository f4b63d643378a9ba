import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import type { Currency } from '../common/money';
import { dialectOf, exactInt, MAX_SAFE_DB_INT } from '../database/dialect';
import { toBigInt } from '../common/money';
import type { Page } from '../common/pagination';
import { LedgerEntryEntity } from './ledger-entry.entity';
import { WalletEntity } from './wallet.entity';

export type BalanceColumn = 'usd_available' | 'lbp_available' | 'usd_held' | 'lbp_held';

const COLUMN_PROPERTY: Record<BalanceColumn, keyof WalletEntity> = {
  usd_available: 'usdAvailable',
  lbp_available: 'lbpAvailable',
  usd_held: 'usdHeld',
  lbp_held: 'lbpHeld',
};

export function balanceColumn(currency: Currency, held: boolean): BalanceColumn {
  return `${currency === 'USD' ? 'usd' : 'lbp'}_${held ? 'held' : 'available'}`;
}

export interface LedgerSums {
  /** Per currency, the sum of every leg (must be 0). */
  byCurrency: { currency: string; total: bigint }[];
  /** Per user account and currency, the sum of its legs. */
  byUserAccount: { userId: number; account: string; currency: string; total: bigint }[];
}

@Injectable()
export class WalletRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  async insertWallet(userId: number, now: Date, m: EntityManager): Promise<void> {
    await m.getRepository(WalletEntity).insert({
      userId,
      usdAvailable: 0n,
      lbpAvailable: 0n,
      usdHeld: 0n,
      lbpHeld: 0n,
      updatedAt: now,
    });
  }

  findWallet(userId: number, m?: EntityManager): Promise<WalletEntity | null> {
    return this.m(m).getRepository(WalletEntity).findOne({ where: { userId } });
  }

  findWallets(userIds: number[]): Promise<WalletEntity[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.m()
      .getRepository(WalletEntity)
      .find({ where: { userId: In(userIds) } });
  }

  /**
   * Adds `delta` to one balance. A debit is conditional (`balance >= amount`), so concurrent debits
   * can never overdraw; returns the new balance, or null when the balance was short (or a credit
   * would pass 2^53 - 1 minor units, far beyond any real balance).
   */
  async applyDelta(
    userId: number,
    column: BalanceColumn,
    delta: bigint,
    now: Date,
    m: EntityManager,
  ): Promise<bigint | null> {
    const qb = m
      .createQueryBuilder()
      .update(WalletEntity)
      .set({ [COLUMN_PROPERTY[column]]: () => `${column} + :delta`, updatedAt: now })
      .where('user_id = :userId', { userId })
      .setParameter('delta', delta);
    if (delta < 0n) qb.andWhere(`${column} >= :needed`, { needed: -delta });
    // Keep balances where every driver reads them exactly (and SQLite's INTEGER cannot overflow).
    if (delta > 0n) qb.andWhere(`${column} <= :ceiling`, { ceiling: MAX_SAFE_DB_INT - delta });
    const res = await qb.execute();
    if ((res.affected ?? 0) === 0) return null;
    const row = await m
      .createQueryBuilder()
      .select(exactInt(dialectOf(m), column), 'v')
      .from(WalletEntity, 'w')
      .where('w.user_id = :userId', { userId })
      .getRawOne<{ v: unknown }>();
    return toBigInt(row?.v);
  }

  async insertEntries(rows: Omit<LedgerEntryEntity, 'id'>[], m: EntityManager): Promise<number[]> {
    const ids: number[] = [];
    // One by one: both dialects then report each generated id reliably.
    for (const row of rows) {
      const res = await m.getRepository(LedgerEntryEntity).insert(row);
      ids.push(Number((res.identifiers[0] as { id: number | string }).id));
    }
    return ids;
  }

  /** A user's own legs (available and held), newest first. */
  async listUserEntries(userId: number, page: Page): Promise<{ rows: LedgerEntryEntity[]; total: number }> {
    const [rows, total] = await this.m()
      .getRepository(LedgerEntryEntity)
      .findAndCount({ where: { userId }, order: { id: 'DESC' }, take: page.limit, skip: page.offset });
    return { rows, total };
  }

  async sums(): Promise<LedgerSums> {
    const m = this.m();
    const dialect = dialectOf(m);
    const byCurrency = await m
      .createQueryBuilder()
      .select('e.currency', 'currency')
      .addSelect(exactInt(dialect, 'SUM(e.amount)'), 'total')
      .from(LedgerEntryEntity, 'e')
      .groupBy('e.currency')
      .getRawMany<{ currency: string; total: unknown }>();
    const byUser = await m
      .createQueryBuilder()
      .select('e.user_id', 'userId')
      .addSelect('e.account', 'account')
      .addSelect('e.currency', 'currency')
      .addSelect(exactInt(dialect, 'SUM(e.amount)'), 'total')
      .from(LedgerEntryEntity, 'e')
      .where('e.user_id IS NOT NULL')
      .groupBy('e.user_id')
      .addGroupBy('e.account')
      .addGroupBy('e.currency')
      .getRawMany<{ userId: unknown; account: string; currency: string; total: unknown }>();
    return {
      byCurrency: byCurrency.map((r) => ({ currency: r.currency, total: toBigInt(r.total) })),
      byUserAccount: byUser.map((r) => ({
        userId: Number(r.userId),
        account: r.account,
        currency: r.currency,
        total: toBigInt(r.total),
      })),
    };
  }

  allWallets(): Promise<WalletEntity[]> {
    return this.m().getRepository(WalletEntity).find();
  }
}
