import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import type { Page } from '../common/pagination';
import { AuditLogEntity } from './audit-log.entity';
import { insertOne } from '../database/insert';
import { newestFirstChunks, newestFirstPage } from '../database/paging';

export interface AuditLogFilter {
  from?: Date;
  to?: Date;
  eventType?: string;
  /** Rows of this request path only (how the seed's two logout names are told apart). */
  path?: string;
  success?: boolean;
  actorUserId?: number;
  targetUserId?: number;
  actorUsername?: string;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(AuditLogEntity);
  }

  async insert(row: Omit<AuditLogEntity, 'id'>, manager?: EntityManager): Promise<void> {
    await insertOne(manager ?? this.dataSource.manager, AuditLogEntity, row);
  }

  search(filter: AuditLogFilter, page: Page): Promise<{ rows: AuditLogEntity[]; total: number }> {
    return newestFirstPage(this.filtered(filter), 'a', page);
  }

  /** The matching rows newest first, in keyset chunks of `size` (see newestFirstChunks). */
  chunks(filter: AuditLogFilter, size: number): AsyncGenerator<AuditLogEntity[]> {
    return newestFirstChunks(() => this.filtered(filter), 'a', size);
  }

  private filtered(f: AuditLogFilter): SelectQueryBuilder<AuditLogEntity> {
    const qb = this.repo().createQueryBuilder('a');
    if (f.from) qb.andWhere('a.created_at >= :from', { from: f.from });
    if (f.to) qb.andWhere('a.created_at <= :to', { to: f.to });
    if (f.eventType) qb.andWhere('a.event_type = :eventType', { eventType: f.eventType });
    if (f.path) qb.andWhere('a.path = :path', { path: f.path });
    if (f.success !== undefined) qb.andWhere('a.success = :success', { success: f.success ? 1 : 0 });
    if (f.actorUserId !== undefined) qb.andWhere('a.actor_user_id = :actor', { actor: f.actorUserId });
    if (f.targetUserId !== undefined) qb.andWhere('a.target_user_id = :target', { target: f.targetUserId });
    if (f.actorUsername) qb.andWhere('a.actor_username = :actorName', { actorName: f.actorUsername });
    return qb;
  }
}
