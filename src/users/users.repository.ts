import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Page } from '../common/pagination';
import { UserPreferencesEntity } from './user-preferences.entity';
import { type Role, UserEntity, type UserStatus } from './user.entity';
import { EntityRows } from '../database/entity-rows';
import { dbDate, dialectOf } from '../database/dialect';
import { insertOne } from '../database/insert';
import { newestFirstPage } from '../database/paging';

export interface UserFilter {
  status?: UserStatus;
  role?: Role;
  /** Substring of the user name or e-mail. */
  q?: string;
}

@Injectable()
export class UsersRepository {
  private readonly rows: EntityRows<UserEntity>;
  private readonly byIdSql: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.rows = new EntityRows(dataSource, UserEntity, 'u');
    this.byIdSql = this.rows.selectBy('id');
  }

  private users(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(UserEntity);
  }

  private prefs(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(UserPreferencesEntity);
  }

  /** Hand-written: read on every GET /whoami. */
  findById(id: number, m?: EntityManager): Promise<UserEntity | null> {
    return this.rows.one(this.byIdSql, [id], m);
  }

  findByNameKey(key: string, m?: EntityManager): Promise<UserEntity | null> {
    return this.users(m).findOne({ where: { userNameKey: key } });
  }

  async insert(user: Omit<UserEntity, 'id'>, m?: EntityManager): Promise<UserEntity> {
    return { ...user, id: await insertOne(m ?? this.dataSource.manager, UserEntity, user) };
  }

  /** One more transaction record for the user, in the record's transaction. */
  async addTransactionRecord(id: number, m: EntityManager): Promise<void> {
    await m.query('UPDATE users SET transactions_count = transactions_count + 1 WHERE id = ?', [id]);
  }

  async update(id: number, patch: Partial<Omit<UserEntity, 'id'>>, m?: EntityManager): Promise<void> {
    await this.users(m).update({ id }, patch);
  }

  /**
   * Adds a confirmed deposit's USD worth to the user's total, and stamps `funded_at` the first time
   * the total reaches `threshold`. (funded_at is assigned first: MySQL evaluates a single-table
   * UPDATE's assignments left to right, SQLite from the old row; this way both read the old total.)
   */
  async addFunded(
    userId: number,
    usd: bigint,
    threshold: bigint,
    now: Date,
    m: EntityManager,
  ): Promise<void> {
    await m
      .createQueryBuilder()
      .update(UserEntity)
      .set({
        fundedAt: () =>
          'CASE WHEN funded_at IS NULL AND funded_usd + :usd >= :threshold THEN :now ELSE funded_at END',
        fundedUsd: () => 'funded_usd + :usd',
      })
      .where('id = :id', { id: userId })
      .setParameters({ usd: Number(usd), threshold: Number(threshold), now: dbDate(dialectOf(m), now) })
      .execute();
  }

  countActiveAdmins(m?: EntityManager): Promise<number> {
    return this.users(m).count({ where: { role: 'ADMIN', status: 'ACTIVE' } });
  }

  /**
   * The given users, locked for update in id order (MySQL; SQLite runs one writer at a time), read
   * as they are now: what an admin change checks before it writes.
   */
  lockUsers(ids: number[], m: EntityManager): Promise<UserEntity[]> {
    const qb = m
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('u.id IN (:...ids)', { ids: [...new Set(ids)] })
      .orderBy('u.id', 'ASC');
    if (m.connection.options.type !== 'better-sqlite3') qb.setLock('pessimistic_write');
    return qb.getMany();
  }

  /** The active admins' ids, locked in id order, so two changes cannot both see "another admin left". */
  async lockActiveAdminIds(m: EntityManager): Promise<number[]> {
    const qb = m
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .select('u.id', 'id')
      .where('u.role = :r AND u.status = :s', { r: 'ADMIN', s: 'ACTIVE' })
      .orderBy('u.id', 'ASC');
    if (m.connection.options.type !== 'better-sqlite3') qb.setLock('pessimistic_write');
    const rows = await qb.getRawMany<{ id: number | string }>();
    return rows.map((r) => Number(r.id));
  }

  search(f: UserFilter, page: Page): Promise<{ rows: UserEntity[]; total: number }> {
    const qb = this.users().createQueryBuilder('u');
    if (f.status) qb.andWhere('u.status = :status', { status: f.status });
    if (f.role) qb.andWhere('u.role = :role', { role: f.role });
    if (f.q) {
      // '!' as the LIKE escape: a backslash literal is read differently by MySQL and SQLite.
      const like = `%${f.q.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
      qb.andWhere("(u.user_name_key LIKE :like ESCAPE '!' OR LOWER(u.email) LIKE :like ESCAPE '!')", {
        like,
      });
    }
    return newestFirstPage(qb, 'u', page);
  }

  findPreferences(userId: number, m?: EntityManager): Promise<UserPreferencesEntity | null> {
    return this.prefs(m).findOne({ where: { userId } });
  }

  /** Inserts the row unless it exists (a concurrent first read may have created it). */
  async insertPreferencesIfMissing(row: UserPreferencesEntity, m?: EntityManager): Promise<void> {
    await this.prefs(m).createQueryBuilder().insert().values(row).orIgnore().execute();
  }

  async savePreferences(row: UserPreferencesEntity, m?: EntityManager): Promise<void> {
    await this.prefs(m).save(row);
  }
}
