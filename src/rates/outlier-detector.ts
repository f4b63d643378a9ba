/** The robust baseline of a direction's accepted samples over the trailing window. */
export interface Baseline {
  count: number;
  median: number | null;
  /** Median absolute deviation from the median. */
  mad: number | null;
  windowHours: number;
}

export interface OutlierPolicy {
  percent: number;
  madThreshold: number;
  minSamples: number;
}

export interface Verdict {
  isOutlier: boolean;
  /** |rate - median| / median, in percent (null without a baseline). */
  deviationPercent: number | null;
  /** Robust z-score |rate - median| / (1.4826 MAD) (null without a baseline). */
  score: number | null;
  reason: string | null;
  baseline: Baseline;
}

const MAD_TO_SIGMA = 1.4826;
const MAX_SCORE = 1e6;

/**
 * A rate is an outlier when, with at least `minSamples` accepted samples in the window, it deviates
 * from their median by more than `percent` AND its robust z-score exceeds `madThreshold`. The two
 * together keep a quiet market's tiny MAD from flagging ordinary moves, and a noisy market's
 * large percent swings from passing unseen.
 */
export function judgeRate(rate: number, baseline: Baseline, policy: OutlierPolicy): Verdict {
  if (baseline.median === null || baseline.mad === null || baseline.median <= 0) {
    return { isOutlier: false, deviationPercent: null, score: null, reason: null, baseline };
  }
  const diff = Math.abs(rate - baseline.median);
  const deviationPercent = (diff / baseline.median) * 100;
  const sigma = MAD_TO_SIGMA * baseline.mad;
  const score = sigma > 0 ? Math.min(diff / sigma, MAX_SCORE) : diff > 0 ? MAX_SCORE : 0;
  const enough = baseline.count >= policy.minSamples;
  const isOutlier = enough && deviationPercent > policy.percent && score > policy.madThreshold;
  const reason = isOutlier
    ? `deviates ${deviationPercent.toFixed(1)}% from the ${baseline.windowHours}h median ${round(baseline.median)} ` +
      `(limit ${policy.percent}%), robust z ${score >= MAX_SCORE ? '>1e6' : score.toFixed(1)}`
    : null;
  return { isOutlier, deviationPercent: round(deviationPercent), score: round(score), reason, baseline };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Median of a sorted list (for tests and small in-memory checks). */
export function medianOf(sorted: number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor((sorted.length - 1) / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid] + sorted[mid + 1]) / 2;
}
