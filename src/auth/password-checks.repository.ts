import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { PasswordCheckEntity } from './password-check.entity';

@Injectable()
export class PasswordChecksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(PasswordCheckEntity);
  }

  find(userId: number, m?: EntityManager): Promise<PasswordCheckEntity | null> {
    return this.repo(m).findOne({ where: { userId } });
  }

  /** The account's row, created when missing, locked for update (MySQL; SQLite has one writer). */
  async lockRow(userId: number, m: EntityManager): Promise<PasswordCheckEntity> {
    await m
      .createQueryBuilder()
      .insert()
      .into(PasswordCheckEntity)
      .values({ userId, failures: 0, lastFailureAt: null, lockedUntil: null })
      .orIgnore()
      .execute();
    const qb = this.repo(m).createQueryBuilder('p').where('p.user_id = :userId', { userId });
    if (m.connection.options.type !== 'better-sqlite3') qb.setLock('pessimistic_write');
    const row = await qb.getOne();
    if (!row) throw new Error(`password_checks row of user ${userId} vanished`);
    return row;
  }

  async save(row: PasswordCheckEntity, m: EntityManager): Promise<void> {
    await this.repo(m).update(
      { userId: row.userId },
      { failures: row.failures, lastFailureAt: row.lastFailureAt, lockedUntil: row.lockedUntil },
    );
  }
}
