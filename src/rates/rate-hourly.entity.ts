import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateTimeColumn, DoubleColumn, MinorUnitsColumn } from '../database/columns';
import type { Direction } from './rate-sample.entity';

/** Rows per hour and direction that concurrent samples are spread over (see `shard`). */
export { ROLLUP_SHARDS } from './hourly-upsert';

/**
 * Hourly rollup of the accepted (non-outlier) samples of a direction, kept up to date as samples
 * arrive and when outlier marks change, so market figures never scan the raw samples. An hour may
 * have up to ROLLUP_SHARDS rows; readers aggregate them like any other rows of the hour.
 */
@Entity({ name: 'rate_hourly' })
export class RateHourlyEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  direction!: Direction;

  @PrimaryColumn({ type: 'datetime', precision: 3, name: 'bucket_start' })
  bucketStart!: Date;

  /**
   * Which of the hour's rows a sample was added to (its id modulo ROLLUP_SHARDS): every sample of an
   * hour updating one row would make concurrent transactions wait on that row's lock until they
   * commit. A rebuilt hour is one row, shard 0.
   */
  @PrimaryColumn({ type: 'smallint', default: 0 })
  shard!: number;

  @Column({ type: 'int', name: 'sample_count' })
  sampleCount!: number;

  /** Sum of the samples' USD volume, minor units. */
  @MinorUnitsColumn({ name: 'volume_usd' })
  volumeUsd!: bigint;

  /** Sum of rate x USD volume (minor units), for the volume-weighted average. */
  @DoubleColumn({ name: 'rate_volume_sum' })
  rateVolumeSum!: number;

  /** Sum of rates, for the plain average. */
  @DoubleColumn({ name: 'rate_sum' })
  rateSum!: number;

  @DoubleColumn({ name: 'min_rate' })
  minRate!: number;

  @DoubleColumn({ name: 'max_rate' })
  maxRate!: number;

  @DoubleColumn({ name: 'open_rate' })
  openRate!: number;

  @DateTimeColumn({ name: 'open_at' })
  openAt!: Date;

  @Column({ type: 'int', name: 'open_id' })
  openId!: number;

  @DoubleColumn({ name: 'close_rate' })
  closeRate!: number;

  @DateTimeColumn({ name: 'close_at' })
  closeAt!: Date;

  @Column({ type: 'int', name: 'close_id' })
  closeId!: number;
}
