/**
 * The robust baseline a new sample of a direction is judged against: the accepted samples of the
 * trailing window by contributor (contributors.ts), the submitting account's own left out.
 */
export interface Baseline {
  /** Accepted, non-dust samples of the other contributors. */
  count: number;
  /** Contributors behind them (an account counts once; each trusted sample is one). */
  contributors: number;
  /** Median over contributors. */
  median: number | null;
  /** Median absolute deviation from the median, over contributors. */
  mad: number | null;
  windowHours: number;
}

export interface OutlierPolicy {
  /** The hard band: farther than this percent from the median is an outlier, whatever the z-score. */
  percent: number;
  /** Inside the band, a robust z-score above this flags too... */
  madThreshold: number;
  /** ...when the deviation is also at least this percent (a quiet market's tiny MAD flags no small move). */
  zMinPercent: number;
  /** Fewer samples than this, or fewer contributors than minContributors: nothing is flagged. */
  minSamples: number;
  minContributors: number;
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
 * With a baseline of at least `minSamples` samples from at least `minContributors` contributors, a
 * rate is an outlier when it deviates from their median by more than `percent` (a hard band: no
 * spread of the market widens it), or, inside the band, when its robust z-score exceeds
 * `madThreshold` and it deviates by at least `zMinPercent` (the z-score can only flag more).
 */
export function judgeRate(rate: number, baseline: Baseline, policy: OutlierPolicy): Verdict {
  if (baseline.median === null || baseline.mad === null || baseline.median <= 0) {
    return { isOutlier: false, deviationPercent: null, score: null, reason: null, baseline };
  }
  const diff = Math.abs(rate - baseline.median);
  const deviationPercent = (diff / baseline.median) * 100;
  const sigma = MAD_TO_SIGMA * baseline.mad;
  const score = sigma > 0 ? Math.min(diff / sigma, MAX_SCORE) : diff > 0 ? MAX_SCORE : 0;
  const enough = baseline.count >= policy.minSamples && baseline.contributors >= policy.minContributors;
  const beyondBand = deviationPercent > policy.percent;
  const byScore = score > policy.madThreshold && deviationPercent >= policy.zMinPercent;
  const isOutlier = enough && (beyondBand || byScore);
  const z = score >= MAX_SCORE ? '>1e6' : score.toFixed(1);
  const median = round(baseline.median);
  const window = `the ${baseline.windowHours}h median ${median} of ${baseline.contributors} contributors`;
  const reason = !isOutlier
    ? null
    : beyondBand
      ? `deviates ${deviationPercent.toFixed(1)}% from ${window} (limit ${policy.percent}%)`
      : `deviates ${deviationPercent.toFixed(1)}% from ${window} with robust z ${z} (limit ${policy.madThreshold})`;
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
