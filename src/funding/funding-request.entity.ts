import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Currency } from '../common/money';
import { CreatedAtColumn, DateTimeColumn, MinorUnitsColumn, UpdatedAtColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

export const FUNDING_KINDS = ['DEPOSIT', 'WITHDRAWAL'] as const;
export type FundingKind = (typeof FUNDING_KINDS)[number];

export const FUNDING_STATUSES = ['PENDING', 'COMPLETED', 'REJECTED', 'CANCELLED'] as const;
export type FundingStatus = (typeof FUNDING_STATUSES)[number];

/**
 * A deposit (money the user says they handed to the operator) or a withdrawal (money to pay out).
 * Only PENDING moves on, exactly once (a conditional update decides): COMPLETED, REJECTED or
 * CANCELLED. A withdrawal holds its amount in the user's held balance while PENDING.
 */
@Entity({ name: 'funding_requests' })
@Index('ix_funding_user', ['userId', 'kind', 'createdAt'])
@Index('ix_funding_status', ['kind', 'status', 'createdAt'])
export class FundingRequestEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'varchar', length: 16 })
  kind!: FundingKind;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_funding_requests_user' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 3 })
  currency!: Currency;

  /** Minor units, > 0. */
  @MinorUnitsColumn()
  amount!: bigint;

  /** A deposit's reference (the transfer's, the agent's receipt). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  reference!: string | null;

  /** Where a withdrawal is paid to. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  destination!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: FundingStatus;

  /** The deciding admin's note. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  note!: string | null;

  @Column({ type: 'int', name: 'decided_by', nullable: true })
  decidedBy!: number | null;

  @DateTimeColumn({ name: 'decided_at', nullable: true })
  decidedAt!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
