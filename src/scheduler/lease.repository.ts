import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, type EntityManager } from 'typeorm';
import { LeaseEntity } from './lease.entity';

@Injectable()
export class LeaseRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Creates the job's lease row, already expired, if it does not exist yet. */
  async ensure(jobName: string, m: EntityManager): Promise<void> {
    await m
      .createQueryBuilder()
      .insert()
      .into(LeaseEntity)
      .values({ jobName, holder: '', expiresAt: new Date(0), acquiredAt: new Date(0) })
      .orIgnore()
      .updateEntity(false)
      .execute();
  }

  /** Takes the lease when it is free, expired, or already ours: one conditional update. */
  async claim(jobName: string, holder: string, now: Date, until: Date, m: EntityManager): Promise<boolean> {
    const res = await m
      .createQueryBuilder()
      .update(LeaseEntity)
      .set({ holder, expiresAt: until, acquiredAt: now })
      .where('job_name = :jobName', { jobName })
      .andWhere(
        new Brackets((b) => b.where('expires_at <= :now', { now }).orWhere('holder = :holder', { holder })),
      )
      .execute();
    return (res.affected ?? 0) === 1;
  }

  /** Gives the lease back (only if still ours). */
  async release(jobName: string, holder: string, now: Date, m: EntityManager): Promise<void> {
    await m
      .createQueryBuilder()
      .update(LeaseEntity)
      .set({ expiresAt: now })
      .where('job_name = :jobName AND holder = :holder', { jobName, holder })
      .execute();
  }

  find(jobName: string): Promise<LeaseEntity | null> {
    return this.dataSource.getRepository(LeaseEntity).findOne({ where: { jobName } });
  }
}
