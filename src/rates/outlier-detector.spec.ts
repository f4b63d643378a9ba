import { type Baseline, judgeRate } from './outlier-detector';

const policy = { percent: 20, madThreshold: 3.5, minSamples: 5 };
const base = (over: Partial<Baseline> = {}): Baseline => ({
  count: 50,
  median: 89500,
  mad: 300,
  windowHours: 72,
  ...over,
});

describe('judgeRate', () => {
  it('flags a 3x rate against a steady market', () => {
    const sut = judgeRate(268500, base(), policy);
    expect(sut.isOutlier).toBe(true);
    expect(sut.deviationPercent).toBeCloseTo(200, 6);
    expect(sut.reason).toContain('200.0%');
  });

  it('accepts ordinary noise', () => {
    expect(judgeRate(90100, base(), policy).isOutlier).toBe(false);
  });

  it('needs both the percent limit and the robust z-score', () => {
    // 25% away but the market itself is very noisy (z below the threshold)
    expect(judgeRate(111875, base({ mad: 20000 }), policy).isOutlier).toBe(false);
    // far in z-score terms but within the percent limit
    expect(judgeRate(95000, base({ mad: 10 }), policy).isOutlier).toBe(false);
  });

  it('flags nothing under the minimum sample count', () => {
    expect(judgeRate(268500, base({ count: 4 }), policy).isOutlier).toBe(false);
    expect(judgeRate(268500, base({ count: 5 }), policy).isOutlier).toBe(true);
  });

  it('treats a zero MAD as an infinitely tight market (any move beyond the percent limit is out)', () => {
    const sut = judgeRate(120000, base({ mad: 0 }), policy);
    expect(sut.isOutlier).toBe(true);
    expect(Number.isFinite(sut.score)).toBe(true);
  });

  it('has no verdict without a baseline', () => {
    expect(judgeRate(1, { count: 0, median: null, mad: null, windowHours: 72 }, policy)).toMatchObject({
      isOutlier: false,
      deviationPercent: null,
      score: null,
    });
  });

  it('is exact at the limit: exactly 20% is not beyond it', () => {
    expect(judgeRate(107400, base({ mad: 0 }), policy).isOutlier).toBe(false);
  });
});
