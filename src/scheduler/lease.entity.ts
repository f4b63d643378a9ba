import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../database/columns';

/** Who runs a scheduled job right now, until when. Claimed and renewed by conditional updates. */
@Entity({ name: 'scheduler_leases' })
export class LeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'job_name' })
  jobName!: string;

  @Column({ type: 'varchar', length: 128 })
  holder!: string;

  @DateTimeColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateTimeColumn({ name: 'acquired_at' })
  acquiredAt!: Date;
}
