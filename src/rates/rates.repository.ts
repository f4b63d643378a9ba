import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { toBigInt } from '../common/money';
import { dbDate, dialectOf, exactInt, readDbDate } from '../database/dialect';
import type { ContributorRow } from './contributors';
import type { RecentSample } from './live-contributors';
import { RateHourlyEntity } from './rate-hourly.entity';
import { type Direction, RateSampleEntity } from './rate-sample.entity';
import { insertOne } from '../database/insert';
import { hourlyUpsert } from './hourly-upsert';

@Injectable()
export class RatesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  /**
   * The counted samples of a direction in [since, until] by contributor (see contributors.ts): one
   * row per account (its samples of at least `minUserVolume`, the dust left out) and one per distinct
   * rate of the trusted samples (no account). Aggregated in SQL over the covering index's range; what
   * leaves the database is one row per contributor, not per sample. An account that is not ACTIVE or
   * that an admin distrusts is left out as it stands now (a suspension drops its samples at once,
   * with no race against its own last record).
   */
  async contributorRows(
    direction: Direction,
    since: Date,
    until: Date,
    minUserVolume: bigint,
    m?: EntityManager,
    /** [since, until) instead of [since, until] (the samples that left a window). */
    untilExclusive = false,
  ): Promise<ContributorRow[]> {
    const em = this.m(m);
    const dialect = dialectOf(em);
    const upTo = untilExclusive ? '<' : '<=';
    const rows: { u: unknown; r: unknown; n: unknown; vol: unknown; rv: unknown; newest: unknown }[] =
      await em.query(
        `SELECT g.u, g.r, g.n, g.vol, g.rv, g.newest FROM (
            SELECT s.user_id AS u, CASE WHEN s.user_id IS NULL THEN s.rate END AS r, COUNT(*) AS n,
              SUM(s.usd_volume) AS vol, SUM(s.rate * s.usd_volume) AS rv, MAX(s.created_at) AS newest
            FROM rate_samples s
            WHERE s.direction = ? AND s.is_outlier = ? AND s.counted = ?
              AND s.created_at >= ? AND s.created_at ${upTo} ?
              AND (s.user_id IS NULL OR s.usd_volume >= ?)
            GROUP BY s.user_id, CASE WHEN s.user_id IS NULL THEN s.rate END) g
          LEFT JOIN users x ON x.id = g.u
          WHERE g.u IS NULL OR (x.status = 'ACTIVE' AND (x.trusted IS NULL OR x.trusted <> ?))`,
        [direction, 0, 1, dbDate(dialect, since), dbDate(dialect, until), Number(minUserVolume), 0],
      );
    return rows.map((row) => ({
      userId: row.u === null ? null : Number(row.u),
      rate: row.r === null ? null : Number(row.r),
      samples: Number(row.n),
      volume: Number(row.vol),
      rateVolume: Number(row.rv),
      newestAt: readDbDate(row.newest),
    }));
  }

  /**
   * The counted samples of a direction in (after, until], one by one, with whether their account
   * counts now (`ok`, as contributorRows decides it): the live reference's incremental reads.
   */
  async recentSamples(
    direction: Direction,
    after: Date,
    until: Date,
    minUserVolume: bigint,
    m?: EntityManager,
  ): Promise<RecentSample[]> {
    const em = this.m(m);
    const dialect = dialectOf(em);
    const rows: { id: unknown; u: unknown; r: unknown; v: unknown; at: unknown; ok: unknown }[] =
      await em.query(
        `SELECT s.id, s.user_id AS u, s.rate AS r, s.usd_volume AS v, s.created_at AS at,
          CASE WHEN s.user_id IS NULL OR (x.status = 'ACTIVE' AND (x.trusted IS NULL OR x.trusted <> ?))
            THEN 1 ELSE 0 END AS ok
        FROM rate_samples s LEFT JOIN users x ON x.id = s.user_id
        WHERE s.direction = ? AND s.is_outlier = ? AND s.counted = ?
          AND s.created_at > ? AND s.created_at <= ?
          AND (s.user_id IS NULL OR s.usd_volume >= ?)`,
        [0, direction, 0, 1, dbDate(dialect, after), dbDate(dialect, until), Number(minUserVolume)],
      );
    return rows.map((row) => ({
      id: Number(row.id),
      userId: row.u === null ? null : Number(row.u),
      rate: Number(row.r),
      volume: Number(row.v),
      createdAt: readDbDate(row.at),
      ok: Number(row.ok) === 1,
    }));
  }

  /**
   * How many counted samples of a direction (of any account's standing) (after, until] holds, and
   * the sum of their ids: from the covering index alone (InnoDB's secondary indexes hold the id).
   */
  async sampleCheck(
    direction: Direction,
    after: Date,
    until: Date,
    minUserVolume: bigint,
    m?: EntityManager,
  ): Promise<{ count: number; idSum: number }> {
    const em = this.m(m);
    const dialect = dialectOf(em);
    const rows: { n: unknown; ids: unknown }[] = await em.query(
      `SELECT COUNT(*) AS n, SUM(s.id) AS ids FROM rate_samples s
        WHERE s.direction = ? AND s.is_outlier = ? AND s.counted = ?
          AND s.created_at > ? AND s.created_at <= ?
          AND (s.user_id IS NULL OR s.usd_volume >= ?)`,
      [direction, 0, 1, dbDate(dialect, after), dbDate(dialect, until), Number(minUserVolume)],
    );
    return { count: Number(rows[0]?.n ?? 0), idSum: Number(rows[0]?.ids ?? 0) };
  }

  /** Which of the accounts `ids` do not count as contributors now (not ACTIVE, or distrusted). */
  async excludedUsers(ids: number[], m?: EntityManager): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows: { id: unknown }[] = await this.m(m).query(
      `SELECT id FROM users WHERE id IN (${ids.map(() => '?').join(', ')})
        AND NOT (status = 'ACTIVE' AND (trusted IS NULL OR trusted <> ?))`,
      [...ids, 0],
    );
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** Which of `ids` are rate samples this transaction (or connection) can see. */
  async visibleSampleIds(ids: number[], m?: EntityManager): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows: { id: unknown }[] = await this.m(m).query(
      `SELECT id FROM rate_samples WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return new Set(rows.map((r) => Number(r.id)));
  }

  async insertSample(row: Omit<RateSampleEntity, 'id'>, m: EntityManager): Promise<RateSampleEntity> {
    return { ...row, id: await insertOne(m, RateSampleEntity, row) };
  }

  findSample(id: number, m?: EntityManager): Promise<RateSampleEntity | null> {
    return this.m(m).getRepository(RateSampleEntity).findOne({ where: { id } });
  }

  async updateSampleMark(
    id: number,
    patch: Pick<RateSampleEntity, 'isOutlier' | 'anomalyReason'>,
    m: EntityManager,
  ): Promise<void> {
    await m.getRepository(RateSampleEntity).update({ id }, patch);
  }

  /** Adds one accepted sample to its hour's rollup row of its shard (insert or merge, atomically). */
  async addToHourly(s: RateSampleEntity, m: EntityManager): Promise<void> {
    const { sql, params } = hourlyUpsert(dialectOf(m), s);
    await m.query(sql, params);
  }

  /** Recomputes one hour's rollup (all its shards) as one row from the raw samples (after an outlier mark changed). */
  async rebuildHour(direction: Direction, bucketStart: Date, m: EntityManager): Promise<void> {
    const end = new Date(bucketStart.getTime() + 3600_000);
    await m.getRepository(RateHourlyEntity).delete({ direction, bucketStart });
    const samples = m
      .getRepository(RateSampleEntity)
      .createQueryBuilder('s')
      .where('s.direction = :direction', { direction })
      .andWhere('s.created_at >= :start AND s.created_at < :end', { start: bucketStart, end })
      .andWhere('s.is_outlier = :no', { no: false });
    // Locking reads on MySQL: they see the latest committed samples, not this transaction's older
    // snapshot, so a sample another request committed meanwhile is not dropped from the rebuilt hour.
    if (dialectOf(m) === 'mysql') samples.setLock('pessimistic_read');
    const agg = await samples
      .clone()
      .select('COUNT(*)', 'n')
      .addSelect(exactInt(dialectOf(m), 'SUM(s.usd_volume)'), 'vol')
      .addSelect('SUM(s.rate * s.usd_volume)', 'rv')
      .addSelect('SUM(s.rate)', 'rs')
      .addSelect('MIN(s.rate)', 'lo')
      .addSelect('MAX(s.rate)', 'hi')
      .getRawOne<{ n: unknown; vol: unknown; rv: unknown; rs: unknown; lo: unknown; hi: unknown }>();
    const n = Number(agg?.n ?? 0);
    if (!agg || n === 0) return;
    const first = await samples.clone().orderBy('s.created_at', 'ASC').addOrderBy('s.id', 'ASC').getOne();
    const last = await samples.clone().orderBy('s.created_at', 'DESC').addOrderBy('s.id', 'DESC').getOne();
    if (!first || !last) return;
    await m.getRepository(RateHourlyEntity).insert({
      direction,
      bucketStart,
      shard: 0,
      sampleCount: n,
      volumeUsd: toBigInt(agg.vol),
      rateVolumeSum: Number(agg.rv ?? 0),
      rateSum: Number(agg.rs ?? 0),
      minRate: Number(agg.lo),
      maxRate: Number(agg.hi),
      openRate: first.rate,
      openAt: first.createdAt,
      openId: first.id,
      closeRate: last.rate,
      closeAt: last.createdAt,
      closeId: last.id,
    });
  }
}
