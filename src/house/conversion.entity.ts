import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Currency } from '../common/money';
import { CreatedAtColumn, DoubleColumn, MinorUnitsColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';
import { QuoteEntity } from './quote.entity';

/** A quote executed: the user's money against the house's, at the quote's rate. Not a rate sample. */
@Entity({ name: 'conversions' })
@Index('ix_conversions_user', ['userId', 'createdAt'])
@Index('ix_conversions_created', ['createdAt'])
export class ConversionEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  /** Each quote converts at most once (also a unique key, a second line behind the claim). */
  @Index('uq_conversions_quote', { unique: true })
  @Column({ type: 'int', name: 'quote_id' })
  quoteId!: number;

  @ManyToOne(() => QuoteEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'quote_id', foreignKeyConstraintName: 'fk_conversions_quote' })
  quote?: QuoteEntity;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_conversions_user' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 3, name: 'from_currency' })
  fromCurrency!: Currency;

  @MinorUnitsColumn({ name: 'from_amount' })
  fromAmount!: bigint;

  @Column({ type: 'varchar', length: 3, name: 'to_currency' })
  toCurrency!: Currency;

  @MinorUnitsColumn({ name: 'to_amount' })
  toAmount!: bigint;

  @DoubleColumn()
  rate!: number;

  @DoubleColumn({ name: 'reference_rate' })
  referenceRate!: number;

  @CreatedAtColumn()
  createdAt!: Date;
}
