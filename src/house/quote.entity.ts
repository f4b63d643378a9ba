import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Currency } from '../common/money';
import { CreatedAtColumn, DateTimeColumn, DoubleColumn, MinorUnitsColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

/**
 * What the house pays for `fromAmount` now: the reference mid minus (bid) or plus (ask) the spread,
 * held until `expiresAt`, usable once (`usedAt`).
 */
@Entity({ name: 'quotes' })
@Index('ix_quotes_user', ['userId', 'createdAt'])
export class QuoteEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_quotes_user' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 3, name: 'from_currency' })
  fromCurrency!: Currency;

  @Column({ type: 'varchar', length: 3, name: 'to_currency' })
  toCurrency!: Currency;

  @MinorUnitsColumn({ name: 'from_amount' })
  fromAmount!: bigint;

  @MinorUnitsColumn({ name: 'to_amount' })
  toAmount!: bigint;

  /** The applied rate, LBP per USD (the bid when the user gives USD, the ask when they give LBP). */
  @DoubleColumn()
  rate!: number;

  /** The published mid when it was quoted (the guard window's low or high priced it). */
  @DoubleColumn({ name: 'reference_rate' })
  referenceRate!: number;

  /** The guard window's lowest mid when it was quoted: the conversion's limits value LBP at it. */
  @DoubleColumn({ name: 'valuation_rate', nullable: true })
  valuationRate!: number | null;

  @DoubleColumn({ name: 'spread_percent' })
  spreadPercent!: number;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateTimeColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateTimeColumn({ name: 'used_at', nullable: true })
  usedAt!: Date | null;
}
