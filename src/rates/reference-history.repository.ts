import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type Dialect, dbDate, dialectOf, readDbDate } from '../database/dialect';
import type { HistoryBucket, HistorySeries } from './reference-history.entity';

/** One bucket's published figures (a row of reference_history). */
export interface HistoryRow {
  series: HistorySeries;
  bucket: HistoryBucket;
  bucketStart: Date;
  mid: number;
  low: number;
  high: number;
  contributors: number;
  midAt: Date;
}

const COLUMNS = 'series, bucket, bucket_start, mid, low, high, contributors, mid_at';

/**
 * The merge of observations into their buckets, one statement for many rows: low = least, high =
 * greatest, and the last value (with its contributors) by publication time, so instances writing the
 * same bucket in any order end with the same row.
 */
export function historyUpsert(dialect: Dialect, rows: HistoryRow[]): { sql: string; params: unknown[] } {
  const tuples = rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
  const params = rows.flatMap((r) => [
    r.series,
    r.bucket,
    dbDate(dialect, r.bucketStart),
    r.mid,
    r.low,
    r.high,
    r.contributors,
    dbDate(dialect, r.midAt),
  ]);
  const insert = `INSERT INTO reference_history (${COLUMNS}) VALUES ${tuples}`;
  if (dialect === 'sqlite') {
    // SQLite evaluates every SET expression against the old row
    return {
      sql: `${insert} ON CONFLICT (series, bucket, bucket_start) DO UPDATE SET
          mid = CASE WHEN excluded.mid_at >= mid_at THEN excluded.mid ELSE mid END,
          contributors = CASE WHEN excluded.mid_at >= mid_at THEN excluded.contributors ELSE contributors END,
          mid_at = MAX(mid_at, excluded.mid_at),
          low = MIN(low, excluded.low),
          high = MAX(high, excluded.high)`,
      params,
    };
  }
  // MySQL assigns left to right, later expressions seeing earlier assignments: mid_at goes last
  return {
    sql: `${insert} ON DUPLICATE KEY UPDATE
        mid = IF(VALUES(mid_at) >= mid_at, VALUES(mid), mid),
        contributors = IF(VALUES(mid_at) >= mid_at, VALUES(contributors), contributors),
        mid_at = GREATEST(mid_at, VALUES(mid_at)),
        low = LEAST(low, VALUES(low)),
        high = GREATEST(high, VALUES(high))`,
    params,
  };
}

@Injectable()
export class ReferenceHistoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  async merge(rows: HistoryRow[], m?: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    const em = this.m(m);
    const { sql, params } = historyUpsert(dialectOf(em), rows);
    await em.query(sql, params);
  }

  /** The buckets of a series in [from, to] (bucket starts), oldest first: a primary key range. */
  async range(series: HistorySeries, bucket: HistoryBucket, from: Date, to: Date): Promise<HistoryRow[]> {
    const em = this.m();
    const d = dialectOf(em);
    const rows: Record<string, unknown>[] = await em.query(
      `SELECT ${COLUMNS} FROM reference_history
        WHERE series = ? AND bucket = ? AND bucket_start >= ? AND bucket_start <= ?
        ORDER BY bucket_start ASC`,
      [series, bucket, dbDate(d, from), dbDate(d, to)],
    );
    return rows.map((r) => ({
      series: r.series as HistorySeries,
      bucket: r.bucket as HistoryBucket,
      bucketStart: readDbDate(r.bucket_start),
      mid: Number(r.mid),
      low: Number(r.low),
      high: Number(r.high),
      contributors: Number(r.contributors),
      midAt: readDbDate(r.mid_at),
    }));
  }

  /**
   * The lowest and highest values of a series' minutes in [from, to], and the last value before
   * `from` (no older than `carrySince`): what was in force when the window began.
   */
  async window(
    series: HistorySeries,
    from: Date,
    to: Date,
    carrySince: Date,
  ): Promise<{ low: number | null; high: number | null; carried: number | null }> {
    const em = this.m();
    const d = dialectOf(em);
    const [agg]: { lo: unknown; hi: unknown }[] = await em.query(
      `SELECT MIN(low) AS lo, MAX(high) AS hi FROM reference_history
        WHERE series = ? AND bucket = 'minute' AND bucket_start >= ? AND bucket_start <= ?`,
      [series, dbDate(d, from), dbDate(d, to)],
    );
    const carried: { mid: unknown }[] = await em.query(
      `SELECT mid FROM reference_history
        WHERE series = ? AND bucket = 'minute' AND bucket_start < ? AND bucket_start >= ?
        ORDER BY bucket_start DESC LIMIT 1`,
      [series, dbDate(d, from), dbDate(d, carrySince)],
    );
    const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    return { low: num(agg?.lo), high: num(agg?.hi), carried: num(carried[0]?.mid) };
  }
}
