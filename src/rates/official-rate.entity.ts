import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn, DoubleColumn } from '../database/columns';

/**
 * The official rate (e.g. the central bank's), as admins set it over time: a series, the newest
 * `effective_at` not in the future in force. Never a contributor to the street reference, never used
 * for quotes; it values LBP for limits only while no reference is published.
 */
@Entity({ name: 'official_rates' })
@Index('ix_official_rates_effective', ['effectiveAt', 'id'])
export class OfficialRateEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  /** LBP per 1 USD for selling USD. */
  @DoubleColumn({ name: 'usd_to_lbp' })
  usdToLbp!: number;

  /** LBP per 1 USD for buying USD (the same as usd_to_lbp unless the source quotes two). */
  @DoubleColumn({ name: 'lbp_to_usd' })
  lbpToUsd!: number;

  /** Who publishes it, e.g. "Banque du Liban". */
  @Column({ type: 'varchar', length: 100 })
  source!: string;

  @DateTimeColumn({ name: 'effective_at' })
  effectiveAt!: Date;

  /** The admin who set it. */
  @Column({ type: 'int', name: 'created_by', nullable: true })
  createdBy!: number | null;

  @CreatedAtColumn()
  createdAt!: Date;
}
