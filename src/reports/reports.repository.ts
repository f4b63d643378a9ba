import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadReplica } from '../database/read-replica';
import { DataSource } from 'typeorm';
import { type Currency, toBigInt } from '../common/money';
import { bucketExpr, type Dialect, dbDate, dialectOf, readDbDate } from '../database/dialect';
import type { Bucket } from '../users/user-preferences.entity';

/** Inclusive time range; an absent end is unbounded. */
export interface TimeRange {
  from?: Date;
  to?: Date;
}

export interface DirectionAggregate {
  usdToLbp: boolean;
  count: number;
  /** Minor units. */
  usdVolume: bigint;
  lbpVolume: bigint;
  avgRate: number | null;
  minRate: number | null;
  maxRate: number | null;
}

export interface TransactionBucket {
  start: Date;
  count: number;
  usdVolume: bigint;
  lbpVolume: bigint;
  avgRate: number | null;
}

export interface CountBucket {
  start: Date;
  count: number;
}

export interface HeldTotals {
  usdHeld: bigint;
  lbpHeld: bigint;
}

/** One user's trades in a range, from either side. */
export interface UserTradeAggregate {
  count: number;
  asBuyer: number;
  asMaker: number;
  /** Minor units. */
  usdVolume: bigint;
  lbpVolume: bigint;
  avgRate: number | null;
  minRate: number | null;
  maxRate: number | null;
}

/** Marketplace trades per bucket: the same figures as transactions. */
export type TradeBucket = TransactionBucket;

/** OPEN offers of one give currency right now. */
export interface OpenOfferAggregate {
  currency: Currency;
  count: number;
  /** Sum of remaining_give_amount, minor units of `currency`. */
  escrow: bigint;
  /** Of `count`, those whose expires_at has passed but which the sweep has not closed yet. */
  pastExpiry: number;
}

type Raw = Record<string, unknown>;

/**
 * Read model for reports: aggregate queries over transactions, trades, offers, users, rate_samples and
 * wallets (read-only; the market tables belong to src/market).
 * Everything is grouped and summed in SQL; only one row per group (direction, bucket) comes back.
 */
@Injectable()
export class ReportsRepository {
  private readonly dialect: Dialect;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly reads: ReadReplica,
  ) {
    this.dialect = dialectOf(dataSource);
  }

  /** A user's transactions per direction (count, exact volumes, rate figures). */
  async userDirectionTotals(userId: number, range: TimeRange): Promise<DirectionAggregate[]> {
    const where = this.where(['user_id = ?'], [userId], range);
    const rows = await this.query(
      `SELECT usd_to_lbp AS dir, COUNT(*) AS n, ${this.sum('usd_amount')} AS usd, ${this.sum('lbp_amount')} AS lbp,
         AVG(rate) AS avg_rate, MIN(rate) AS min_rate, MAX(rate) AS max_rate
       FROM transactions WHERE ${where.sql} GROUP BY usd_to_lbp`,
      where.params,
    );
    return rows.map((r) => ({
      usdToLbp: Number(r.dir) === 1 || r.dir === true,
      count: Number(r.n),
      usdVolume: toBigInt(r.usd),
      lbpVolume: toBigInt(r.lbp),
      avgRate: num(r.avg_rate),
      minRate: num(r.min_rate),
      maxRate: num(r.max_rate),
    }));
  }

  /** The UTC day with most of the user's transactions in the range (earliest day on a tie). */
  async userBusiestDay(userId: number, range: TimeRange): Promise<CountBucket | null> {
    const day = bucketExpr(this.dialect, 'created_at', 'day');
    const where = this.where(['user_id = ?'], [userId], range);
    const rows = await this.query(
      `SELECT ${day} AS d, COUNT(*) AS n FROM transactions WHERE ${where.sql}
       GROUP BY ${day} ORDER BY n DESC, d ASC LIMIT 1`,
      where.params,
    );
    return rows.length === 0 ? null : { start: readDbDate(rows[0].d), count: Number(rows[0].n) };
  }

  async countTransactions(): Promise<number> {
    const rows = await this.query('SELECT COUNT(*) AS n FROM transactions', []);
    return Number(rows[0]?.n ?? 0);
  }

  /** Transaction counts per direction in the range (uses the created_at index). */
  async countTransactionsByDirection(range: TimeRange): Promise<{ usdToLbp: number; lbpToUsd: number }> {
    const where = this.where([], [], range);
    const rows = await this.query(
      `SELECT usd_to_lbp AS dir, COUNT(*) AS n FROM transactions WHERE ${where.sql} GROUP BY usd_to_lbp`,
      where.params,
    );
    const out = { usdToLbp: 0, lbpToUsd: 0 };
    for (const r of rows) {
      if (Number(r.dir) === 1 || r.dir === true) out.usdToLbp = Number(r.n);
      else out.lbpToUsd = Number(r.n);
    }
    return out;
  }

  /** All transactions per UTC hour/day in the range, oldest first. */
  transactionBuckets(range: TimeRange, bucket: Bucket): Promise<TransactionBucket[]> {
    return this.volumeBuckets('transactions', range, bucket);
  }

  /** Accounts registered per bucket. */
  newUserBuckets(range: TimeRange, bucket: Bucket): Promise<CountBucket[]> {
    return this.countBuckets('users', [], range, bucket);
  }

  /** Rate samples marked as outliers per bucket of their time (uses ix_rate_samples_outlier_time). */
  outlierBuckets(range: TimeRange, bucket: Bucket): Promise<CountBucket[]> {
    return this.countBuckets('rate_samples', ['is_outlier = 1'], range, bucket);
  }

  /** What every wallet holds in escrow right now. */
  async heldTotals(): Promise<HeldTotals> {
    const rows = await this.query(
      `SELECT ${this.sum('usd_held')} AS usd, ${this.sum('lbp_held')} AS lbp FROM wallets`,
      [],
    );
    return { usdHeld: toBigInt(rows[0]?.usd), lbpHeld: toBigInt(rows[0]?.lbp) };
  }

  /**
   * A user's trades in the range, as buyer or seller. One branch per side, so each uses its
   * (side, created_at) index; a user is never both sides of one trade (their own offer cannot be
   * taken by them), so UNION ALL counts every trade once.
   */
  async userTradeTotals(userId: number, range: TimeRange): Promise<UserTradeAggregate> {
    const buyer = this.where(['buyer_user_id = ?'], [userId], range);
    const seller = this.where(['seller_user_id = ?'], [userId], range);
    const side = (isBuyer: 0 | 1, w: { sql: string }) =>
      `SELECT ${isBuyer} AS is_buyer, CASE WHEN maker_user_id = ? THEN 1 ELSE 0 END AS is_maker,
         usd_amount, lbp_amount, rate FROM trades WHERE ${w.sql}`;
    const rows = await this.query(
      `SELECT COUNT(*) AS n, SUM(is_buyer) AS as_buyer, SUM(is_maker) AS as_maker,
         ${this.sum('usd_amount')} AS usd, ${this.sum('lbp_amount')} AS lbp,
         AVG(rate) AS avg_rate, MIN(rate) AS min_rate, MAX(rate) AS max_rate
       FROM (${side(1, buyer)} UNION ALL ${side(0, seller)}) t`,
      [userId, ...buyer.params, userId, ...seller.params],
    );
    const r = rows[0] ?? {};
    return {
      count: Number(r.n ?? 0),
      asBuyer: Number(r.as_buyer ?? 0),
      asMaker: Number(r.as_maker ?? 0),
      usdVolume: toBigInt(r.usd),
      lbpVolume: toBigInt(r.lbp),
      avgRate: num(r.avg_rate),
      minRate: num(r.min_rate),
      maxRate: num(r.max_rate),
    };
  }

  /** All marketplace trades per UTC hour/day in the range, oldest first (uses ix_trades_time). */
  tradeBuckets(range: TimeRange, bucket: Bucket): Promise<TradeBucket[]> {
    return this.volumeBuckets('trades', range, bucket);
  }

  /** Count, volumes and average rate per bucket of a table with usd_amount, lbp_amount and rate. */
  private async volumeBuckets(
    table: 'transactions' | 'trades',
    range: TimeRange,
    bucket: Bucket,
  ): Promise<TransactionBucket[]> {
    const b = bucketExpr(this.dialect, 'created_at', bucket);
    const where = this.where([], [], range);
    const rows = await this.query(
      `SELECT ${b} AS t, COUNT(*) AS n, ${this.sum('usd_amount')} AS usd, ${this.sum('lbp_amount')} AS lbp,
         AVG(rate) AS avg_rate
       FROM ${table} WHERE ${where.sql} GROUP BY ${b} ORDER BY t`,
      where.params,
    );
    return rows.map((r) => ({
      start: readDbDate(r.t),
      count: Number(r.n),
      usdVolume: toBigInt(r.usd),
      lbpVolume: toBigInt(r.lbp),
      avgRate: num(r.avg_rate),
    }));
  }

  /**
   * OPEN offers right now per give currency (everyone's, or one creator's): how many and the escrow
   * they hold. Offers past expiry that the sweep has not closed yet still hold their escrow, so they
   * are counted, and also reported apart.
   */
  async openOffers(now: Date, creatorUserId?: number): Promise<OpenOfferAggregate[]> {
    const conditions = ["status = 'OPEN'"];
    const params: unknown[] = [dbDate(this.dialect, now)];
    if (creatorUserId !== undefined) {
      conditions.push('creator_user_id = ?');
      params.push(creatorUserId);
    }
    const rows = await this.query(
      `SELECT give_currency AS c, COUNT(*) AS n, ${this.sum('remaining_give_amount')} AS escrow,
         SUM(CASE WHEN expires_at IS NOT NULL AND expires_at <= ? THEN 1 ELSE 0 END) AS past_expiry
       FROM offers WHERE ${conditions.join(' AND ')} GROUP BY give_currency`,
      params,
    );
    return rows.map((r) => ({
      currency: String(r.c) as Currency,
      count: Number(r.n),
      escrow: toBigInt(r.escrow),
      pastExpiry: Number(r.past_expiry ?? 0),
    }));
  }

  private async countBuckets(
    table: 'users' | 'rate_samples',
    conditions: string[],
    range: TimeRange,
    bucket: Bucket,
  ): Promise<CountBucket[]> {
    const b = bucketExpr(this.dialect, 'created_at', bucket);
    const where = this.where(conditions, [], range);
    const rows = await this.query(
      `SELECT ${b} AS t, COUNT(*) AS n FROM ${table} WHERE ${where.sql} GROUP BY ${b} ORDER BY t`,
      where.params,
    );
    return rows.map((r) => ({ start: readDbDate(r.t), count: Number(r.n) }));
  }

  /**
   * SUM of a BIGINT column as decimal text, so no driver turns it into a float: better-sqlite3 would
   * hand back a lossy JS number past 2^53, mysql2 returns the DECIMAL as a string anyway.
   */
  private sum(column: string): string {
    return this.dialect === 'sqlite' ? `CAST(SUM(${column}) AS TEXT)` : `CAST(SUM(${column}) AS CHAR)`;
  }

  private where(
    conditions: string[],
    params: unknown[],
    range: TimeRange,
  ): { sql: string; params: unknown[] } {
    const sql = [...conditions];
    const values = [...params];
    if (range.from) {
      sql.push('created_at >= ?');
      values.push(dbDate(this.dialect, range.from));
    }
    if (range.to) {
      sql.push('created_at <= ?');
      values.push(dbDate(this.dialect, range.to));
    }
    return { sql: sql.length > 0 ? sql.join(' AND ') : '1 = 1', params: values };
  }

  private query(sql: string, params: unknown[]): Promise<Raw[]> {
    return this.reads.manager().query<Raw[]>(sql, params);
  }
}

function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
