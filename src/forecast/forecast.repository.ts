import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { bucketExpr, dbDate, dialectOf, readDbDate } from '../database/dialect';
import type { Direction } from '../rates/rate-sample.entity';

export interface BucketValue {
  t: Date;
  /** Volume-weighted mean rate of the bucket's counted samples (plain mean when they have no volume). */
  value: number;
}

/** What the forecast reads: the counted samples (those behind the reference) per hour or day. */
@Injectable()
export class ForecastRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The newest counted sample of a direction (an index seek), or null. */
  async newest(direction: Direction): Promise<Date | null> {
    const rows: { at: unknown }[] = await this.dataSource.query(
      `SELECT MAX(created_at) AS at FROM rate_samples WHERE direction = ? AND is_outlier = ? AND counted = ?`,
      [direction, 0, 1],
    );
    return rows[0]?.at == null ? null : readDbDate(rows[0].at);
  }

  /**
   * Per bucket in [from, to], the counted samples as the reference counts them: accepted, made while
   * established (or an admin's or a feed's), an account's dust left out, and no account that is
   * suspended, banned or distrusted now. Oldest first; buckets without samples are absent.
   */
  async buckets(
    direction: Direction,
    bucket: 'hour' | 'day',
    from: Date,
    to: Date,
    minUserVolume: bigint,
  ): Promise<BucketValue[]> {
    const d = dialectOf(this.dataSource);
    const b = bucketExpr(d, 's.created_at', bucket);
    const rows: { b: unknown; rv: unknown; vol: unknown; rs: unknown; n: unknown }[] =
      await this.dataSource.query(
        `SELECT ${b} AS b, SUM(s.rate * s.usd_volume) AS rv, SUM(s.usd_volume) AS vol, SUM(s.rate) AS rs, COUNT(*) AS n
        FROM rate_samples s
        WHERE s.direction = ? AND s.is_outlier = ? AND s.counted = ? AND s.created_at >= ? AND s.created_at <= ?
          AND (s.user_id IS NULL OR (s.usd_volume >= ? AND NOT EXISTS (
            SELECT 1 FROM users x WHERE x.id = s.user_id AND (x.status <> 'ACTIVE' OR x.trusted = ?))))
        GROUP BY ${b}
        ORDER BY ${b}`,
        [direction, 0, 1, dbDate(d, from), dbDate(d, to), Number(minUserVolume), 0],
      );
    return rows.map((r) => {
      const vol = Number(r.vol);
      return { t: readDbDate(r.b), value: vol > 0 ? Number(r.rv) / vol : Number(r.rs) / Number(r.n) };
    });
  }
}
