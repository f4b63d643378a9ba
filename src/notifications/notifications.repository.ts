import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, MoreThan } from 'typeorm';
import { isUniqueViolation } from '../common/errors/db-errors';
import { insertMany } from '../database/insert';
import { EntityRows } from '../database/entity-rows';
import { sqlPage } from '../database/paging';
import type { Page } from '../common/pagination';
import { NotificationEntity } from './notification.entity';

@Injectable()
export class NotificationsRepository {
  private readonly rows: EntityRows<NotificationEntity>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.rows = new EntityRows(dataSource, NotificationEntity, 'n');
  }

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(NotificationEntity);
  }

  /**
   * Inserts every row in one statement, or none when one of them exists already (false). A plain
   * insert, so the unique key decides on both dialects (a failed statement leaves the surrounding
   * transaction usable on MySQL and SQLite).
   */
  async insertAllOrNone(rows: Omit<NotificationEntity, 'id'>[], m: EntityManager): Promise<boolean> {
    try {
      await insertMany(m, NotificationEntity, rows);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Inserts unless the same (user, event, object, occasion) exists; true when this call stored it. */
  insertOnce(row: Omit<NotificationEntity, 'id'>, m: EntityManager): Promise<boolean> {
    return this.insertAllOrNone([row], m);
  }

  /** A page, newest first; counted only when the page does not show where the list ends. */
  list(
    userId: number,
    unreadOnly: boolean,
    page: Page,
  ): Promise<{ rows: NotificationEntity[]; total: number }> {
    return sqlPage(
      this.dataSource.manager,
      this.rows,
      {
        where: unreadOnly ? 'n.user_id = ? AND n.is_read = ?' : 'n.user_id = ?',
        params: unreadOnly ? [userId, 0] : [userId],
        orderBy: 'n.id DESC',
      },
      page,
    );
  }

  after(userId: number, afterId: number, limit: number): Promise<NotificationEntity[]> {
    return this.repo().find({ where: { userId, id: MoreThan(afterId) }, order: { id: 'ASC' }, take: limit });
  }

  async latestId(userId: number): Promise<number> {
    const newest = await this.repo().findOne({
      where: { userId },
      order: { id: 'DESC' },
      select: { id: true },
    });
    return newest?.id ?? 0;
  }

  countUnread(userId: number): Promise<number> {
    return this.repo().count({ where: { userId, isRead: false } });
  }

  findOwn(userId: number, id: number, m?: EntityManager): Promise<NotificationEntity | null> {
    return this.repo(m).findOne({ where: { id, userId } });
  }

  async markRead(userId: number, id: number | null, m: EntityManager): Promise<number> {
    const res = await this.repo(m).update(id === null ? { userId, isRead: false } : { userId, id }, {
      isRead: true,
    });
    return res.affected ?? 0;
  }

  async delete(userId: number, id: number, m: EntityManager): Promise<number> {
    const res = await this.repo(m).delete({ userId, id });
    return res.affected ?? 0;
  }
}
