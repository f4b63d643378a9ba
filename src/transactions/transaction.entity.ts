import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DoubleColumn, MinorUnitsColumn } from '../database/columns';

/** An exchange against the house at the rate the user reports. */
@Entity({ name: 'transactions' })
@Index('ix_transactions_user_time', ['userId', 'createdAt'])
@Index('ix_transactions_time', ['createdAt'])
export class TransactionEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  /** Minor units. */
  @MinorUnitsColumn({ name: 'usd_amount' })
  usdAmount!: bigint;

  @MinorUnitsColumn({ name: 'lbp_amount' })
  lbpAmount!: bigint;

  /** true: the user sold USD for LBP; false: bought USD with LBP. */
  @Column({ type: 'boolean', name: 'usd_to_lbp' })
  usdToLbp!: boolean;

  /** LBP per USD, lbp_amount / usd_amount. */
  @DoubleColumn()
  rate!: number;

  @CreatedAtColumn()
  createdAt!: Date;
}
