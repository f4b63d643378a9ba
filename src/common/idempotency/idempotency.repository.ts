import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, LessThan } from 'typeorm';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { insertOne } from '../../database/insert';

@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(IdempotencyKeyEntity);
  }

  /** Claims the key; throws a unique violation when another request holds it. */
  async insert(row: Omit<IdempotencyKeyEntity, 'id'>, m: EntityManager): Promise<number> {
    return insertOne(m, IdempotencyKeyEntity, row);
  }

  find(userId: number, key: string): Promise<IdempotencyKeyEntity | null> {
    return this.repo().findOne({ where: { userId, idemKey: key } });
  }

  async complete(id: number, status: number, body: string, m: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, { state: 'DONE', responseStatus: status, responseBody: body });
  }

  async delete(id: number, m: EntityManager): Promise<void> {
    await this.repo(m).delete({ id });
  }

  async deleteExpired(now: Date, m: EntityManager): Promise<number> {
    const res = await this.repo(m).delete({ expiresAt: LessThan(now) });
    return res.affected ?? 0;
  }
}
