import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateTimeColumn, DoubleColumn } from '../database/columns';

/** The series kept: each direction's published reference, and the house's mid between them. */
export const HISTORY_SERIES = ['usd_to_lbp', 'lbp_to_usd', 'mid'] as const;
export type HistorySeries = (typeof HISTORY_SERIES)[number];

export const HISTORY_BUCKETS = ['minute', 'hour', 'day'] as const;
export type HistoryBucket = (typeof HISTORY_BUCKETS)[number];

/**
 * What GET /exchangeRate published, kept per minute, hour and day from the moment it was published
 * (never recomputed from samples later): the last value of the bucket (`mid`), the lowest and highest
 * values seen in it, and the contributors behind the last one. Every instance merges what it
 * published into the same rows (low = least, high = greatest, the last value by time), so the
 * house's guard window and the history read the same figures on every instance. Read by primary
 * key range only.
 */
@Entity({ name: 'reference_history' })
export class ReferenceHistoryEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  series!: HistorySeries;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  bucket!: HistoryBucket;

  @PrimaryColumn({ type: 'datetime', precision: 3, name: 'bucket_start' })
  bucketStart!: Date;

  /** The last value published in the bucket (LBP per USD). */
  @DoubleColumn()
  mid!: number;

  @DoubleColumn()
  low!: number;

  @DoubleColumn()
  high!: number;

  /** Contributors behind the last value. */
  @Column({ type: 'int' })
  contributors!: number;

  /** When the last value was published. */
  @DateTimeColumn({ name: 'mid_at' })
  midAt!: Date;
}
