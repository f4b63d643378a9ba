import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Currency } from '../common/money';
import {
  CreatedAtColumn,
  DateTimeColumn,
  DoubleColumn,
  MinorUnitsColumn,
  UpdatedAtColumn,
} from '../database/columns';

export const OFFER_STATUSES = ['OPEN', 'COMPLETED', 'CANCELLED', 'EXPIRED'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

/**
 * A maker's standing offer: gives `giveAmount` of one currency for `wantAmount` of the other. The
 * unfilled give side sits in the maker's held balance (escrow) while the offer is OPEN; the remaining
 * amounts only ever decrease, and every fill pays its share of the remaining want side.
 */
@Entity({ name: 'offers' })
@Index('ix_offers_status_time', ['status', 'createdAt'])
@Index('ix_offers_status_rate', ['status', 'giveCurrency', 'rate'])
@Index('ix_offers_creator_time', ['creatorUserId', 'createdAt'])
@Index('ix_offers_status_expiry', ['status', 'expiresAt'])
export class OfferEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'creator_user_id' })
  creatorUserId!: number;

  @Column({ type: 'varchar', length: 3, name: 'give_currency' })
  giveCurrency!: Currency;

  /** Minor units, as offered. */
  @MinorUnitsColumn({ name: 'give_amount' })
  giveAmount!: bigint;

  @Column({ type: 'varchar', length: 3, name: 'want_currency' })
  wantCurrency!: Currency;

  @MinorUnitsColumn({ name: 'want_amount' })
  wantAmount!: bigint;

  /** Give side not yet taken (still in escrow while OPEN). */
  @MinorUnitsColumn({ name: 'remaining_give_amount' })
  remainingGiveAmount!: bigint;

  /**
   * Want side not yet paid; the fill that takes the last of the give side pays at least all of it
   * (fills round up against the taker: fill-pricing.ts).
   */
  @MinorUnitsColumn({ name: 'remaining_want_amount' })
  remainingWantAmount!: bigint;

  /** Want side the maker received so far (at least want_amount once completed: fills round up). */
  @MinorUnitsColumn({ name: 'received_want_amount', default: 0 })
  receivedWantAmount!: bigint;

  /** Smallest partial take in the give currency; null: only the whole remainder can be taken. */
  @MinorUnitsColumn({ name: 'min_fill_amount', nullable: true })
  minFillAmount!: bigint | null;

  /** LBP per USD, from the offered amounts. */
  @DoubleColumn()
  rate!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: OfferStatus;

  /** Escrow returned to the maker on cancel or expiry. */
  @MinorUnitsColumn({ name: 'refunded_amount' })
  refundedAmount!: bigint;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateTimeColumn({ name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  /** When it stopped being OPEN (completed, cancelled or expired). */
  @DateTimeColumn({ name: 'closed_at', nullable: true })
  closedAt!: Date | null;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
