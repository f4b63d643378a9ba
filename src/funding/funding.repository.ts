import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import { type Currency, toBigInt } from '../common/money';
import type { Page } from '../common/pagination';
import { dialectOf, exactInt } from '../database/dialect';
import { insertOne } from '../database/insert';
import { newestFirstPage } from '../database/paging';
import { type FundingKind, FundingRequestEntity, type FundingStatus } from './funding-request.entity';

/** What pending withdrawals hold in users' held balances (a WalletService hold source). */
export const PENDING_WITHDRAWAL_HOLDS = `SELECT user_id,
    CASE WHEN currency = 'USD' THEN amount ELSE 0 END AS usd,
    CASE WHEN currency = 'LBP' THEN amount ELSE 0 END AS lbp
  FROM funding_requests WHERE kind = 'WITHDRAWAL' AND status = 'PENDING'`;

export interface FundingFilter {
  kind: FundingKind;
  userId?: number;
  status?: FundingStatus;
}

@Injectable()
export class FundingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(FundingRequestEntity);
  }

  async insert(row: Omit<FundingRequestEntity, 'id'>, m: EntityManager): Promise<FundingRequestEntity> {
    return { ...row, id: await insertOne(m, FundingRequestEntity, row) };
  }

  find(id: number, kind: FundingKind, m?: EntityManager): Promise<FundingRequestEntity | null> {
    return this.repo(m).findOne({ where: { id, kind } });
  }

  /** The request as last committed (a locking read on MySQL, whatever the transaction's snapshot). */
  findLatest(id: number, kind: FundingKind, m: EntityManager): Promise<FundingRequestEntity | null> {
    const qb = this.repo(m).createQueryBuilder('f').where('f.id = :id AND f.kind = :kind', { id, kind });
    if (dialectOf(m) === 'mysql') qb.setLock('pessimistic_read');
    return qb.getOne();
  }

  /**
   * Moves a PENDING request to `status`, once: whoever runs it second (another admin, the user
   * cancelling) changes nothing and gets false.
   */
  async settle(
    id: number,
    patch: Pick<FundingRequestEntity, 'status' | 'note' | 'decidedBy' | 'decidedAt' | 'updatedAt'>,
    m: EntityManager,
  ): Promise<boolean> {
    const res = await this.repo(m).update({ id, status: 'PENDING' }, patch);
    return (res.affected ?? 0) === 1;
  }

  list(f: FundingFilter, page: Page): Promise<{ rows: FundingRequestEntity[]; total: number }> {
    const qb = this.repo().createQueryBuilder('f').where('f.kind = :kind', { kind: f.kind });
    if (f.userId !== undefined) qb.andWhere('f.user_id = :userId', { userId: f.userId });
    if (f.status) qb.andWhere('f.status = :status', { status: f.status });
    return newestFirstPage(qb, 'f', page);
  }

  /** Per currency, the user's requests of a kind since `since` that are pending or completed. */
  async totalsSince(
    userId: number,
    kind: FundingKind,
    since: Date,
    m: EntityManager,
  ): Promise<Record<Currency, bigint>> {
    const rows = await this.repo(m)
      .createQueryBuilder('f')
      .select('f.currency', 'currency')
      .addSelect(exactInt(dialectOf(m), 'SUM(f.amount)'), 'total')
      .where('f.user_id = :userId AND f.kind = :kind', { userId, kind })
      .andWhere('f.created_at >= :since', { since })
      .andWhere({ status: In(['PENDING', 'COMPLETED']) })
      .groupBy('f.currency')
      .getRawMany<{ currency: Currency; total: unknown }>();
    const out: Record<Currency, bigint> = { USD: 0n, LBP: 0n };
    for (const r of rows) out[r.currency] = toBigInt(r.total);
    return out;
  }
}
