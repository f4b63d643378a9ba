import type { DataSource } from 'typeorm';
import { RateHourlyEntity } from '../../src/rates/rate-hourly.entity';
import type { Direction } from '../../src/rates/rate-sample.entity';

const earlier = (a: Date, aId: number, b: Date, bId: number): boolean =>
  a.getTime() < b.getTime() || (a.getTime() === b.getTime() && aId < bId);

/**
 * An hour's rollup as one row: its shard rows folded (sums added, min and max, open the earliest and
 * close the latest by time then sample id), or null when the hour has none.
 */
export async function hourlyRollup(
  ds: DataSource,
  direction: Direction,
  bucketStart: Date,
): Promise<Omit<RateHourlyEntity, 'shard'> | null> {
  const rows = await ds.getRepository(RateHourlyEntity).findBy({ direction, bucketStart });
  if (rows.length === 0) return null;
  const plain = rows.map(({ shard: _shard, ...row }) => ({ ...row }));
  return plain.reduce((a, b) => {
    const open = earlier(a.openAt, a.openId, b.openAt, b.openId) ? a : b;
    const close = earlier(a.closeAt, a.closeId, b.closeAt, b.closeId) ? b : a;
    return {
      direction,
      bucketStart,
      sampleCount: a.sampleCount + b.sampleCount,
      volumeUsd: a.volumeUsd + b.volumeUsd,
      rateVolumeSum: a.rateVolumeSum + b.rateVolumeSum,
      rateSum: a.rateSum + b.rateSum,
      minRate: Math.min(a.minRate, b.minRate),
      maxRate: Math.max(a.maxRate, b.maxRate),
      openRate: open.openRate,
      openAt: open.openAt,
      openId: open.openId,
      closeRate: close.closeRate,
      closeAt: close.closeAt,
      closeId: close.closeId,
    };
  });
}
