import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../database/columns';

/**
 * One row (id 1): a value that changes, in the same transaction, whenever samples already under the
 * live reference's window change other than by being added now: an outlier mark set or cleared, an
 * account's standing (status, trust), samples stamped in the past (an import), a restore. Every
 * instance's live reference reads it with each incremental reload (LiveContributors) and reloads the
 * whole window when it moved, so no instance keeps counting what changed, with or without Redis.
 * Not in backups: a restore writes a new value instead.
 */
@Entity({ name: 'reference_epoch' })
export class ReferenceEpochEntity {
  @PrimaryColumn({ type: 'int' })
  id!: number;

  /** A random value (UUID), new at every change. */
  @Column({ type: 'varchar', length: 36 })
  epoch!: string;

  @DateTimeColumn({ name: 'changed_at' })
  changedAt!: Date;
}
