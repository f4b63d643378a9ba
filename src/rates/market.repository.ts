import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadReplica } from '../database/read-replica';
import { DataSource } from 'typeorm';
import { toBigInt } from '../common/money';
import { bucketExpr, dbDate, type Dialect, dialectOf, readDbDate } from '../database/dialect';
import type { Bucket } from '../users/user-preferences.entity';
import type { Direction } from './rate-sample.entity';

/**
 * The aggregate of some accepted samples (one bucket of one source), in the same shape as a
 * `rate_hourly` row, so partial results from the rollup and from raw samples merge exactly.
 */
export interface RatePartial {
  /** Bucket start (UTC), or null when the query was not bucketed. */
  bucket: Date | null;
  count: number;
  /** Sum of USD volume, minor units. */
  volume: bigint;
  /** Sum of rate x USD volume (minor units). */
  rateVolume: number;
  rateSum: number;
  min: number;
  max: number;
  open: number;
  openAt: Date;
  openId: number;
  close: number;
  closeAt: Date;
  closeId: number;
}

/** Time span [start, end): end is exclusive. */
export interface Span {
  start: Date;
  end: Date;
}

/** How a table's columns map onto a RatePartial (a raw sample is a rollup row of one sample). */
interface Source {
  table: string;
  time: string;
  count: string;
  volume: string;
  rateVolume: string;
  rateSum: string;
  min: string;
  max: string;
  open: string;
  openAt: string;
  openId: string;
  close: string;
  closeAt: string;
  closeId: string;
}

const RAW: Source = {
  table: 'rate_samples',
  time: 'created_at',
  count: '1',
  volume: 'usd_volume',
  rateVolume: 'rate * usd_volume',
  rateSum: 'rate',
  min: 'rate',
  max: 'rate',
  open: 'rate',
  openAt: 'created_at',
  openId: 'id',
  close: 'rate',
  closeAt: 'created_at',
  closeId: 'id',
};

const HOURLY: Source = {
  table: 'rate_hourly',
  time: 'bucket_start',
  count: 'sample_count',
  volume: 'volume_usd',
  rateVolume: 'rate_volume_sum',
  rateSum: 'rate_sum',
  min: 'min_rate',
  max: 'max_rate',
  open: 'open_rate',
  openAt: 'open_at',
  openId: 'open_id',
  close: 'close_rate',
  closeAt: 'close_at',
  closeId: 'close_id',
};

interface PartialRow {
  b: unknown;
  n: unknown;
  vol: unknown;
  rv: unknown;
  rs: unknown;
  lo: unknown;
  hi: unknown;
  o: unknown;
  o_at: unknown;
  o_id: unknown;
  c: unknown;
  c_at: unknown;
  c_id: unknown;
}

/**
 * One grouped aggregate over a source: sums, min/max, and open/close picked by ROW_NUMBER() over
 * (time, id) within each bucket (window functions: SQLite 3.25+, MariaDB 10.2+, MySQL 8).
 */
function aggregateSql(dialect: Dialect, s: Source, bucket: Bucket | null, where: string): string {
  const b = bucket ? bucketExpr(dialect, s.time, bucket) : "'all'";
  const partition = bucket ? `PARTITION BY ${b} ` : '';
  return `SELECT x.b AS b, SUM(x.n) AS n, SUM(x.vol) AS vol, SUM(x.rv) AS rv, SUM(x.rs) AS rs,
      MIN(x.lo) AS lo, MAX(x.hi) AS hi,
      MAX(CASE WHEN x.r_open = 1 THEN x.o END) AS o,
      MAX(CASE WHEN x.r_open = 1 THEN x.o_at END) AS o_at,
      MAX(CASE WHEN x.r_open = 1 THEN x.o_id END) AS o_id,
      MAX(CASE WHEN x.r_close = 1 THEN x.c END) AS c,
      MAX(CASE WHEN x.r_close = 1 THEN x.c_at END) AS c_at,
      MAX(CASE WHEN x.r_close = 1 THEN x.c_id END) AS c_id
    FROM (
      SELECT ${b} AS b, ${s.count} AS n, ${s.volume} AS vol, ${s.rateVolume} AS rv, ${s.rateSum} AS rs,
        ${s.min} AS lo, ${s.max} AS hi,
        ${s.open} AS o, ${s.openAt} AS o_at, ${s.openId} AS o_id,
        ${s.close} AS c, ${s.closeAt} AS c_at, ${s.closeId} AS c_id,
        ROW_NUMBER() OVER (${partition}ORDER BY ${s.openAt} ASC, ${s.openId} ASC) AS r_open,
        ROW_NUMBER() OVER (${partition}ORDER BY ${s.closeAt} DESC, ${s.closeId} DESC) AS r_close
      FROM ${s.table}
      WHERE ${where}
    ) x
    GROUP BY x.b
    ORDER BY x.b`;
}

function toPartial(r: PartialRow, bucketed: boolean): RatePartial {
  return {
    bucket: bucketed ? readDbDate(r.b) : null,
    count: Number(r.n),
    volume: toBigInt(r.vol),
    rateVolume: Number(r.rv),
    rateSum: Number(r.rs),
    min: Number(r.lo),
    max: Number(r.hi),
    open: Number(r.o),
    openAt: readDbDate(r.o_at),
    openId: Number(r.o_id),
    close: Number(r.c),
    closeAt: readDbDate(r.c_at),
    closeId: Number(r.c_id),
  };
}

/** Read queries of market figures, analytics and history: aggregates only, never sample rows. */
@Injectable()
export class MarketRepository {
  private readonly dialect: Dialect;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly reads: ReadReplica,
  ) {
    this.dialect = dialectOf(dataSource);
  }

  /** Accepted samples of everyone in a span, aggregated per bucket (index ix_rate_samples_dir_time). */
  marketSamples(direction: Direction, span: Span, bucket: Bucket | null): Promise<RatePartial[]> {
    return this.aggregate(
      RAW,
      bucket,
      'direction = ? AND created_at >= ? AND created_at < ? AND is_outlier = 0',
      [direction, span.start, span.end],
    );
  }

  /** One user's accepted samples in a span, per bucket (index ix_rate_samples_user_dir_time). */
  userSamples(
    userId: number,
    direction: Direction,
    span: Span,
    bucket: Bucket | null,
  ): Promise<RatePartial[]> {
    return this.aggregate(
      RAW,
      bucket,
      'user_id = ? AND direction = ? AND created_at >= ? AND created_at < ? AND is_outlier = 0',
      [userId, direction, span.start, span.end],
    );
  }

  /** Rollup rows of the whole hours starting in a span, aggregated per bucket (its primary key). */
  hourlyRollup(direction: Direction, span: Span, bucket: Bucket | null): Promise<RatePartial[]> {
    return this.aggregate(HOURLY, bucket, 'direction = ? AND bucket_start >= ? AND bucket_start < ?', [
      direction,
      span.start,
      span.end,
    ]);
  }

  private async aggregate(
    source: Source,
    bucket: Bucket | null,
    where: string,
    params: (string | number | Date)[],
  ): Promise<RatePartial[]> {
    const bound = params.map((p) => (p instanceof Date ? dbDate(this.dialect, p) : p));
    // a replica when the service routed this read there (ReadReplica.run), else the primary
    const rows: PartialRow[] = await this.reads
      .manager()
      .query(aggregateSql(this.dialect, source, bucket, where), bound);
    return rows.filter((r) => Number(r.n) > 0).map((r) => toPartial(r, bucket !== null));
  }
}
