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

  /**
   * The filter's conditions, each `<column> <op> ?` with its value: the one translation of a filter,
   * for the page's hand-written SQL and the export's query builder alike.
   */
  private conditions(f: TransactionFilter): [string, unknown][] {
    const c: [string, unknown][] = [['t.user_id = ?', f.userId]];
    if (f.from) c.push(['t.created_at >= ?', dbDate(this.dialect, f.from)]);
    if (f.to) c.push(['t.created_at <= ?', dbDate(this.dialect, f.to)]);
    if (f.direction) c.push(['t.usd_to_lbp = ?', f.direction === 'usd_to_lbp' ? 1 : 0]);
    return c;
  }

  private filtered(f: TransactionFilter): SelectQueryBuilder<TransactionEntity> {
    // a replica when the service routed the read there (ReadReplica.run), else the primary
    const qb = this.reads.manager().getRepository(TransactionEntity).createQueryBuilder('t');
    this.conditions(f).forEach(([condition, value], i) =>
      qb.andWhere(condition.replace('?', `:p${i}`), { [`p${i}`]: value }),
    );
    return qb;
  }

  /** The filter as hand-written SQL, newest first. */
  private listSql(f: TransactionFilter): ListSql {
    const c = this.conditions(f);
    return {
      where: c.map(([condition]) => condition).join(' AND '),
      params: c.map(([, value]) => value),
      orderBy: 't.created_at DESC, t.id DESC',
    };
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
