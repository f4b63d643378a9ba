import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type SelectQueryBuilder } from 'typeorm';
import type { Page } from '../common/pagination';
import { type Direction, RateSampleEntity, type SampleSource } from './rate-sample.entity';

export interface DataQualityFilter {
  from?: Date;
  to?: Date;
  direction?: Direction;
  source?: SampleSource;
}

export interface DirectionCounts {
  direction: Direction;
  total: number;
  flagged: number;
}

/** Read-only queries of GET /admin/data-quality; aggregates stay in SQL. */
@Injectable()
export class DataQualityRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private filtered(f: DataQualityFilter): SelectQueryBuilder<RateSampleEntity> {
    const qb = this.dataSource.getRepository(RateSampleEntity).createQueryBuilder('s');
    if (f.from) qb.andWhere('s.created_at >= :from', { from: f.from });
    if (f.to) qb.andWhere('s.created_at <= :to', { to: f.to });
    if (f.direction) qb.andWhere('s.direction = :direction', { direction: f.direction });
    if (f.source) qb.andWhere('s.source = :source', { source: f.source });
    return qb;
  }

  /** Samples and flagged samples per direction, one grouped query. */
  async countsByDirection(f: DataQualityFilter): Promise<DirectionCounts[]> {
    const rows = await this.filtered(f)
      .select('s.direction', 'direction')
      .addSelect('COUNT(*)', 'total')
      .addSelect('SUM(CASE WHEN s.is_outlier = :yes THEN 1 ELSE 0 END)', 'flagged')
      .setParameter('yes', true)
      .groupBy('s.direction')
      .getRawMany<{ direction: Direction; total: unknown; flagged: unknown }>();
    return rows.map((r) => ({
      direction: r.direction,
      total: Number(r.total ?? 0),
      flagged: Number(r.flagged ?? 0),
    }));
  }

  /** Flagged samples, newest first (the (is_outlier, created_at) index serves the order). */
  anomalies(f: DataQualityFilter, page: Page): Promise<RateSampleEntity[]> {
    return this.filtered(f)
      .andWhere('s.is_outlier = :yes', { yes: true })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .offset(page.offset)
      .limit(page.limit)
      .getMany();
  }
}
