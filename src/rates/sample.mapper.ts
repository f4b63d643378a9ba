import { toMajor } from '../common/money';
import type { AnomalyDto, RateSampleDto } from './dto/admin-rates.dto';
import type { RateSampleEntity } from './rate-sample.entity';

/** Rates are shown with at most 6 decimals (as transactions show theirs). */
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

const round6OrNull = (x: number | null): number | null => (x === null ? null : round6(x));

export function toSampleDto(s: RateSampleEntity): RateSampleDto {
  return {
    id: s.id,
    direction: s.direction,
    rate: round6(s.rate),
    source: s.source,
    user_id: s.userId,
    transaction_id: s.transactionId,
    trade_id: s.tradeId,
    usd_volume: toMajor(s.usdVolume),
    is_outlier: Boolean(s.isOutlier),
    anomaly_reason: s.anomalyReason,
    anomaly_score: round6OrNull(s.anomalyScore),
    baseline_rate: round6OrNull(s.baselineRate),
    deviation_percent: round6OrNull(s.deviationPercent),
    created_at: s.createdAt.toISOString(),
  };
}

export function toAnomalyDto(s: RateSampleEntity): AnomalyDto {
  return {
    sample_id: s.id,
    transaction_id: s.transactionId,
    direction: s.direction,
    rate: round6(s.rate),
    deviation_percent: round6OrNull(s.deviationPercent),
    baseline_avg_rate: round6OrNull(s.baselineRate),
    source: s.source,
    anomaly_reason: s.anomalyReason,
    anomaly_score: round6OrNull(s.anomalyScore),
    created_at: s.createdAt.toISOString(),
  };
}
