import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Page } from '../common/pagination';
import type { Direction } from '../rates/rate-sample.entity';
import { WatchlistItemEntity } from './watchlist-item.entity';
import { insertOne } from '../database/insert';

/** Every query of watchlist items (raw fragments quote `condition`, a reserved word on MySQL). */
@Injectable()
export class WatchlistRepository {
  private readonly cond: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.cond = dataSource.driver.escape('condition');
  }

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(WatchlistItemEntity);
  }

  async insert(row: Omit<WatchlistItemEntity, 'id'>, m: EntityManager): Promise<WatchlistItemEntity> {
    return { ...row, id: await insertOne(m, WatchlistItemEntity, row) };
  }

  countByUser(userId: number, m: EntityManager): Promise<number> {
    return m.getRepository(WatchlistItemEntity).count({ where: { userId } });
  }

  async listOwn(userId: number, page: Page): Promise<{ rows: WatchlistItemEntity[]; total: number }> {
    const [rows, total] = await this.repo().findAndCount({
      where: { userId },
      order: { id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
    return { rows, total };
  }

  findOwn(userId: number, id: number, m?: EntityManager): Promise<WatchlistItemEntity | null> {
    return this.repo(m).findOne({ where: { id, userId } });
  }

  async deleteOwn(userId: number, id: number, m: EntityManager): Promise<number> {
    const res = await this.repo(m).delete({ id, userId });
    return res.affected ?? 0;
  }

  /**
   * Armed threshold items of a direction that the market rate is beyond (at or past the threshold on
   * their condition's side), one keyset page by id.
   */
  crossedArmed(
    direction: Direction,
    rate: number,
    afterId: number,
    limit: number,
  ): Promise<WatchlistItemEntity[]> {
    return this.repo()
      .createQueryBuilder('w')
      .where("w.item_type = 'threshold' AND w.direction = :direction AND w.armed = 1 AND w.id > :afterId", {
        direction,
        afterId,
      })
      .andWhere(
        `((w.${this.cond} = 'above' AND w.threshold <= :rate) OR (w.${this.cond} = 'below' AND w.threshold >= :rate))`,
        { rate },
      )
      .orderBy('w.id', 'ASC')
      .take(limit)
      .getMany();
  }

  /** Disarms an item if it is still armed; 1 when this call did it (so exactly one sweep notifies). */
  async disarm(id: number, now: Date, m: EntityManager): Promise<number> {
    const res = await m
      .createQueryBuilder()
      .update(WatchlistItemEntity)
      .set({ armed: false, lastNotifiedAt: now })
      .where('id = :id AND armed = 1', { id })
      .execute();
    return res.affected ?? 0;
  }

  /**
   * Disarmed threshold items of a direction whose threshold the market rate is back behind by more
   * than `band` (a fraction, e.g. 0.0025), one keyset page by id.
   */
  backBehind(
    direction: Direction,
    rate: number,
    band: number,
    afterId: number,
    limit: number,
  ): Promise<WatchlistItemEntity[]> {
    return this.repo()
      .createQueryBuilder('w')
      .where("w.item_type = 'threshold' AND w.direction = :direction AND w.armed = 0 AND w.id > :afterId", {
        direction,
        afterId,
      })
      .andWhere(
        `((w.${this.cond} = 'above' AND :rate < w.threshold * :lo) OR (w.${this.cond} = 'below' AND :rate > w.threshold * :hi))`,
        { rate, lo: 1 - band, hi: 1 + band },
      )
      .orderBy('w.id', 'ASC')
      .take(limit)
      .getMany();
  }

  /** Re-arms an item if it is still disarmed; 1 when this call did it (so exactly one sweep notifies). */
  async rearm(id: number, now: Date, m: EntityManager): Promise<number> {
    const res = await m
      .createQueryBuilder()
      .update(WatchlistItemEntity)
      .set({ armed: true, lastNotifiedAt: now })
      .where('id = :id AND armed = 0', { id })
      .execute();
    return res.affected ?? 0;
  }

  /** Direction items of a direction not yet notified on `day`, one keyset page by id. */
  dueForDay(
    direction: Direction,
    day: string,
    afterId: number,
    limit: number,
  ): Promise<WatchlistItemEntity[]> {
    return this.repo()
      .createQueryBuilder('w')
      .where(
        "w.item_type = 'direction' AND w.direction = :direction AND w.last_notified_day <> :day AND w.id > :afterId",
        { direction, day, afterId },
      )
      .orderBy('w.id', 'ASC')
      .take(limit)
      .getMany();
  }

  /** Marks a direction item notified on `day` unless it already is; 1 when this call did it. */
  async markDay(id: number, day: string, now: Date, m: EntityManager): Promise<number> {
    const res = await m
      .createQueryBuilder()
      .update(WatchlistItemEntity)
      .set({ lastNotifiedDay: day, lastNotifiedAt: now })
      .where('id = :id AND last_notified_day <> :day', { id, day })
      .execute();
    return res.affected ?? 0;
  }
}
