import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import { dialectOf, exactInt } from '../database/dialect';
import { EntityRows } from '../database/entity-rows';
import { insertMany } from '../database/insert';
import { type Currency, MAX_BALANCE_MINOR, toBigInt } from '../common/money';
import type { Page } from '../common/pagination';
import { LedgerEntryEntity } from './ledger-entry.entity';
import { WalletEntity } from './wallet.entity';

export type BalanceColumn = 'usd_available' | 'lbp_available' | 'usd_held' | 'lbp_held';

const COLUMN_PROPERTY: Record<BalanceColumn, 'usdAvailable' | 'lbpAvailable' | 'usdHeld' | 'lbpHeld'> = {
  usd_available: 'usdAvailable',
  lbp_available: 'lbpAvailable',
  usd_held: 'usdHeld',
  lbp_held: 'lbpHeld',
};

export function balanceOf(w: WalletEntity, column: BalanceColumn): bigint {
  return w[COLUMN_PROPERTY[column]];
}

export function balanceColumn(currency: Currency, held: boolean): BalanceColumn {
  return `${currency === 'USD' ? 'usd' : 'lbp'}_${held ? 'held' : 'available'}`;
}

export interface WalletVsLedger {
  userId: number;
  balances: Record<BalanceColumn, bigint>;
  ledger: Record<BalanceColumn, bigint>;
}

@Injectable()
export class WalletRepository {
  private readonly wallets: EntityRows<WalletEntity>;
  private readonly walletByUserSql: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.wallets = new EntityRows(dataSource, WalletEntity, 'w');
    this.walletByUserSql = this.wallets.selectBy('userId');
  }

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

  /** Hand-written: read on every GET /whoami and /wallet. */
  findWallet(userId: number, m?: EntityManager): Promise<WalletEntity | null> {
    return this.wallets.one(this.walletByUserSql, [userId], m);
  }

  /**
   * The wallet as last committed, whatever the transaction's snapshot (a locking read on MySQL, where
   * a plain read inside REPEATABLE READ may show an older version).
   */
  findWalletLatest(userId: number, m: EntityManager): Promise<WalletEntity | null> {
    const qb = m.getRepository(WalletEntity).createQueryBuilder('w').where('w.user_id = :userId', { userId });
    if (dialectOf(m) === 'mysql') qb.setLock('pessimistic_read');
    return qb.getOne();
  }

  /** Locks the user's wallet row for the rest of the transaction (MySQL; SQLite has one writer). */
  async lockWallet(userId: number, m: EntityManager): Promise<boolean> {
    const qb = m.getRepository(WalletEntity).createQueryBuilder('w').where('w.user_id = :userId', { userId });
    if (dialectOf(m) === 'mysql') qb.setLock('pessimistic_write');
    return (await qb.getOne()) !== null;
  }

  findWallets(userIds: number[]): Promise<WalletEntity[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.m()
      .getRepository(WalletEntity)
      .find({ where: { userId: In(userIds) } });
  }

  /**
   * Adds deltas to a user's balances in one statement. Debits are conditional (`balance >= amount`),
   * so concurrent debits can never overdraw, and credits may not pass MAX_BALANCE_MINOR (far beyond any
   * real balance; every amount up to it reads and serialises exactly). Returns the wallet after
   * the update, or null when a condition failed (nothing changed).
   */
  async applyDeltas(
    userId: number,
    deltas: Map<BalanceColumn, bigint>,
    now: Date,
    m: EntityManager,
  ): Promise<WalletEntity | null> {
    const set: Record<string, unknown> = { updatedAt: now };
    const qb = m.createQueryBuilder().update(WalletEntity).where('user_id = :userId', { userId });
    let n = 0;
    for (const [column, delta] of deltas) {
      const i = ++n; // the SET expressions are evaluated later: each keeps its own number
      set[COLUMN_PROPERTY[column]] = () => `${column} + :d${i}`;
      qb.setParameter(`d${i}`, delta);
      if (delta < 0n) qb.andWhere(`${column} >= :n${i}`, { [`n${i}`]: -delta });
      if (delta > 0n) qb.andWhere(`${column} <= :c${i}`, { [`c${i}`]: MAX_BALANCE_MINOR - delta });
    }
    const res = await qb.set(set).execute();
    if ((res.affected ?? 0) === 0) return null;
    const dialect = dialectOf(m);
    const row = await m
      .createQueryBuilder()
      .select(exactInt(dialect, 'usd_available'), 'usd_available')
      .addSelect(exactInt(dialect, 'lbp_available'), 'lbp_available')
      .addSelect(exactInt(dialect, 'usd_held'), 'usd_held')
      .addSelect(exactInt(dialect, 'lbp_held'), 'lbp_held')
      .from(WalletEntity, 'w')
      .where('w.user_id = :userId', { userId })
      .getRawOne<Record<BalanceColumn, unknown>>();
    if (!row) return null;
    return {
      userId,
      usdAvailable: toBigInt(row.usd_available),
      lbpAvailable: toBigInt(row.lbp_available),
      usdHeld: toBigInt(row.usd_held),
      lbpHeld: toBigInt(row.lbp_held),
      updatedAt: now,
    };
  }

  /** All legs of a journal in one statement. */
  async insertEntries(rows: Omit<LedgerEntryEntity, 'id'>[], m: EntityManager): Promise<void> {
    await insertMany(m, LedgerEntryEntity, rows);
  }

  /** The id of a user's leg in a journal (the admin adjustment reports it). */
  async findUserEntryId(journalId: string, userId: number, m: EntityManager): Promise<number> {
    const row = await m
      .getRepository(LedgerEntryEntity)
      .findOne({ where: { journalId, userId }, select: { id: true } });
    if (!row) throw new Error(`journal ${journalId} has no leg of user ${userId}`);
    return row.id;
  }

  /** A user's own legs (available and held), newest first. */
  async listUserEntries(userId: number, page: Page): Promise<{ rows: LedgerEntryEntity[]; total: number }> {
    const [rows, total] = await this.m()
      .getRepository(LedgerEntryEntity)
      .findAndCount({ where: { userId }, order: { id: 'DESC' }, take: page.limit, skip: page.offset });
    return { rows, total };
  }

  /** Per currency, the sum of every leg (must be zero). */
  async currencySums(m: EntityManager): Promise<{ currency: string; total: bigint }[]> {
    const rows = await m
      .createQueryBuilder()
      .select('e.currency', 'currency')
      .addSelect(exactInt(dialectOf(m), 'SUM(e.amount)'), 'total')
      .from(LedgerEntryEntity, 'e')
      .groupBy('e.currency')
      .getRawMany<{ currency: string; total: unknown }>();
    return rows.map((r) => ({ currency: r.currency, total: toBigInt(r.total) }));
  }

  /**
   * Wallets whose balances differ from the sums of their ledger legs, or are negative, computed in SQL
   * (nothing but the offending rows leaves the database), at most `limit` of them.
   */
  async walletMismatches(m: EntityManager, limit: number): Promise<WalletVsLedger[]> {
    const d = dialectOf(m);
    const leg = (account: string, currency: string) =>
      `SUM(CASE WHEN account = '${account}' AND currency = '${currency}' THEN amount ELSE 0 END)`;
    const cols: [BalanceColumn, string][] = [
      ['usd_available', leg('user', 'USD')],
      ['lbp_available', leg('user', 'LBP')],
      ['usd_held', leg('user_held', 'USD')],
      ['lbp_held', leg('user_held', 'LBP')],
    ];
    const sql = `SELECT w.user_id AS user_id,
        ${cols.map(([c]) => `${exactInt(d, `w.${c}`)} AS w_${c}, ${exactInt(d, `COALESCE(s.${c}, 0)`)} AS l_${c}`).join(', ')}
      FROM wallets w
      LEFT JOIN (SELECT user_id, ${cols.map(([c, expr]) => `${expr} AS ${c}`).join(', ')}
                 FROM ledger_entries WHERE user_id IS NOT NULL GROUP BY user_id) s ON s.user_id = w.user_id
      WHERE ${cols.map(([c]) => `w.${c} <> COALESCE(s.${c}, 0) OR w.${c} < 0`).join(' OR ')}
      ORDER BY w.user_id LIMIT ${Math.floor(limit)}`;
    const rows: Record<string, unknown>[] = await m.query(sql);
    return rows.map((r) => ({
      userId: Number(r.user_id),
      balances: Object.fromEntries(cols.map(([c]) => [c, toBigInt(r[`w_${c}`])])) as Record<
        BalanceColumn,
        bigint
      >,
      ledger: Object.fromEntries(cols.map(([c]) => [c, toBigInt(r[`l_${c}`])])) as Record<
        BalanceColumn,
        bigint
      >,
    }));
  }

  /**
   * Wallets whose held balance of a currency differs from what their holds add up to, computed in
   * SQL, at most `limit` rows. Each hold source is a SELECT of (user_id, usd, lbp) rows (see
   * WalletService.addHoldSource); no source: held must be zero.
   */
  async holdMismatches(m: EntityManager, sources: string[], limit: number): Promise<HoldMismatch[]> {
    const d = dialectOf(m);
    const holds =
      sources.length === 0
        ? 'SELECT NULL AS user_id, 0 AS usd, 0 AS lbp'
        : sources.map((src) => `SELECT user_id, usd, lbp FROM (${src}) x`).join(' UNION ALL ');
    const sql = `SELECT w.user_id AS user_id,
        ${exactInt(d, 'w.usd_held')} AS usd_held, ${exactInt(d, 'COALESCE(h.usd, 0)')} AS usd_holds,
        ${exactInt(d, 'w.lbp_held')} AS lbp_held, ${exactInt(d, 'COALESCE(h.lbp, 0)')} AS lbp_holds
      FROM wallets w
      LEFT JOIN (SELECT user_id, SUM(usd) AS usd, SUM(lbp) AS lbp FROM (${holds}) a GROUP BY user_id) h
        ON h.user_id = w.user_id
      WHERE w.usd_held <> COALESCE(h.usd, 0) OR w.lbp_held <> COALESCE(h.lbp, 0)
      ORDER BY w.user_id LIMIT ${Math.floor(limit)}`;
    const rows: Record<string, unknown>[] = await m.query(sql);
    const out: HoldMismatch[] = [];
    for (const r of rows) {
      const userId = Number(r.user_id);
      for (const [currency, held, holdsSum] of [
        ['USD', toBigInt(r.usd_held), toBigInt(r.usd_holds)],
        ['LBP', toBigInt(r.lbp_held), toBigInt(r.lbp_holds)],
      ] as const) {
        if (held !== holdsSum) out.push({ userId, currency, held, holds: holdsSum });
      }
    }
    return out;
  }
}

export interface HoldMismatch {
  userId: number;
  currency: Currency;
  held: bigint;
  holds: bigint;
}
