import { Injectable } from '@nestjs/common';
import { ReadReplica } from '../database/read-replica';
import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import type { Page } from '../common/pagination';
import type { Direction } from '../rates/rate-sample.entity';
import { TransactionEntity } from './transaction.entity';
import { insertOne } from '../database/insert';
import { newestFirstChunks, newestFirstPage } from '../database/paging';

export interface TransactionFilter {
  userId: number;
  from?: Date;
  to?: Date;
  direction?: Direction;
}

@Injectable()
export class TransactionsRepository {
  constructor(private readonly reads: ReadReplica) {}

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

  list(f: TransactionFilter, page: Page): Promise<{ rows: TransactionEntity[]; total: number }> {
    return newestFirstPage(this.filtered(f), 't', page);
  }

  /** The matching rows newest first, in keyset chunks of `size` (see newestFirstChunks). */
  chunks(f: TransactionFilter, size: number): AsyncGenerator<TransactionEntity[]> {
    return newestFirstChunks(() => this.filtered(f), 't', size);
  }
}
