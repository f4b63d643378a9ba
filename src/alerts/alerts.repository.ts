import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, type EntityManager, IsNull, Not } from 'typeorm';
import type { Page } from '../common/pagination';
import type { Direction } from '../rates/rate-sample.entity';
import { AlertEntity } from './alert.entity';
import { insertOne } from '../database/insert';

@Injectable()
export class AlertsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(AlertEntity);
  }

  async insert(row: Omit<AlertEntity, 'id'>, m: EntityManager): Promise<AlertEntity> {
    return { ...row, id: await insertOne(m, AlertEntity, row) };
  }

  countActiveByUser(userId: number, m: EntityManager): Promise<number> {
    return this.repo(m).count({ where: { userId, isActive: true } });
  }

  /** A user's alerts, newest first. */
  async listByUser(userId: number, page: Page): Promise<{ rows: AlertEntity[]; total: number }> {
    const [rows, total] = await this.repo().findAndCount({
      where: { userId },
      order: { id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
    return { rows, total };
  }

  /** A user's fired alerts, most recently fired first. */
  listTriggered(userId: number, page: Page): Promise<AlertEntity[]> {
    return this.repo().find({
      where: { userId, triggeredAt: Not(IsNull()) },
      order: { triggeredAt: 'DESC', id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
  }

  /** One alert; with `userId`, only if it is that user's. */
  findOne(id: number, userId: number | null, m?: EntityManager): Promise<AlertEntity | null> {
    return this.repo(m).findOne({ where: userId === null ? { id } : { id, userId } });
  }

  async delete(id: number, m: EntityManager): Promise<number> {
    const res = await this.repo(m).delete({ id });
    return res.affected ?? 0;
  }

  /**
   * Active alerts of a direction whose condition the rate meets (above: rate >= threshold; below:
   * rate <= threshold), in id order after `afterId` (keyset pages). Uses ix_alerts_direction_active.
   */
  findMet(direction: Direction, rate: number, afterId: number, limit: number): Promise<AlertEntity[]> {
    const qb = this.repo().createQueryBuilder('a');
    const condition = `a.${qb.escape('condition')}`;
    return qb
      .where('a.direction = :direction', { direction })
      .andWhere('a.is_active = :active', { active: 1 })
      .andWhere(
        new Brackets((b) =>
          b
            .where(`${condition} = 'above' AND a.threshold <= :rate`, { rate })
            .orWhere(`${condition} = 'below' AND a.threshold >= :rate`, { rate }),
        ),
      )
      .andWhere('a.id > :afterId', { afterId })
      .orderBy('a.id', 'ASC')
      .take(limit)
      .getMany();
  }

  /**
   * Fires an alert: one conditional update, so of any number of concurrent evaluators exactly one
   * sees an affected row.
   */
  async fire(id: number, rate: number, at: Date, m: EntityManager): Promise<boolean> {
    const res = await this.repo(m).update(
      { id, isActive: true },
      { isActive: false, triggeredAt: at, triggerRate: rate },
    );
    return (res.affected ?? 0) === 1;
  }
}
