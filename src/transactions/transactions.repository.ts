import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadReplica } from '../database/read-replica';
import type { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import type { Page } from '../common/pagination';
import type { Direction } from '../rates/rate-sample.entity';
import { TransactionEntity } from './transaction.entity';
import { insertOne } from '../database/insert';
import { type Dialect, dbDate, dialectOf } from '../database/dialect';
import { EntityRows } from '../database/entity-rows';
import { type ListSql, newestFirstChunks, sqlPage } from '../database/paging';

export interface TransactionFilter {
  userId: number;
  from?: Date;
  to?: Date;
  direction?: Direction;
}

@Injectable()
export class TransactionsRepository {
  private readonly rows: EntityRows<TransactionEntity>;
  private readonly dialect: Dialect;

  constructor(
    private readonly reads: ReadReplica,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.rows = new EntityRows(dataSource, TransactionEntity, 't');
    this.dialect = dialectOf(dataSource);
  }

  async insert(row: Omit<TransactionEntity, 'id'>, m: EntityManager): Promise<TransactionEntity> {
    return { ...row, id: await insertOne(m, TransactionEntity, row) };
  }

  private filtered(f: TransactionFilter): SelectQueryBuilder<TransactionEntity> {
    // a replica when the service routed the read there (ReadReplica.run), else the primary
    const qb = this.reads
      .manager()
      .getRepository(TransactionEntity)
      .createQueryBuilder('t')
      .where('t.user_id = :userId', { userId: f.userId });
    if (f.from) qb.andWhere('t.created_at >= :from', { from: f.from });
    if (f.to) qb.andWhere('t.created_at <= :to', { to: f.to });
    if (f.direction) qb.andWhere('t.usd_to_lbp = :dir', { dir: f.direction === 'usd_to_lbp' ? 1 : 0 });
    return qb;
  }

  /** The filter as hand-written SQL (the same conditions as `filtered`), newest first. */
  private listSql(f: TransactionFilter): ListSql {
    const where = ['t.user_id = ?'];
    const params: unknown[] = [f.userId];
    const and = (condition: string, value: unknown) => {
      where.push(condition);
      params.push(value);
    };
    if (f.from) and('t.created_at >= ?', dbDate(this.dialect, f.from));
    if (f.to) and('t.created_at <= ?', dbDate(this.dialect, f.to));
    if (f.direction) and('t.usd_to_lbp = ?', f.direction === 'usd_to_lbp' ? 1 : 0);
    return { where: where.join(' AND '), params, orderBy: 't.created_at DESC, t.id DESC' };
  }

  /**
   * A page, newest first, on the replica when the service routed the read there; `count`: the
   * list's total when the caller knows it (no COUNT is run then).
   */
  list(
    f: TransactionFilter,
    page: Page,
    count: number | null,
  ): Promise<{ rows: TransactionEntity[]; total: number }> {
    return sqlPage(this.reads.manager(), this.rows, this.listSql(f), page, count);
  }

  /** The matching rows newest first, in keyset chunks of `size` (see newestFirstChunks). */
  chunks(f: TransactionFilter, size: number): AsyncGenerator<TransactionEntity[]> {
    return newestFirstChunks(() => this.filtered(f), 't', size);
  }
}
