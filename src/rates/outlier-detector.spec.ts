import { type Baseline, judgeRate, type OutlierPolicy } from './outlier-detector';

const policy: OutlierPolicy = {
  percent: 20,
  madThreshold: 3.5,
  zMinPercent: 5,
  minSamples: 5,
  minContributors: 3,
};
const base = (over: Partial<Baseline> = {}): Baseline => ({
  count: 50,
  contributors: 5,
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

  it('the percent limit is a hard band: a noisy market (large MAD) does not widen it', () => {
    expect(judgeRate(111875, base({ mad: 20000 }), policy).isOutlier).toBe(true); // 25%
    expect(judgeRate(179000, base({ mad: 1e9 }), policy).isOutlier).toBe(true); // 100%, z tiny
    expect(judgeRate(107400, base({ mad: 20000 }), policy).isOutlier).toBe(false); // 20%: inside
  });

  it('inside the band the z-score only flags more, and only from zMinPercent on', () => {
    // 6% away from a quiet market: z far above the threshold
    expect(judgeRate(94870, base({ mad: 10 }), policy)).toMatchObject({ isOutlier: true });
    expect(judgeRate(94870, base({ mad: 10 }), policy).reason).toContain('robust z');
    // 4% away from the same quiet market: a small move, not flagged
    expect(judgeRate(93080, base({ mad: 10 }), policy).isOutlier).toBe(false);
    // 6% in a noisy market: z small
    expect(judgeRate(94870, base({ mad: 5000 }), policy).isOutlier).toBe(false);
  });

  it('flags nothing under the minimum sample count or contributor count', () => {
    expect(judgeRate(268500, base({ count: 4 }), policy).isOutlier).toBe(false);
    expect(judgeRate(268500, base({ count: 5 }), policy).isOutlier).toBe(true);
    expect(judgeRate(268500, base({ contributors: 2 }), policy).isOutlier).toBe(false);
    expect(judgeRate(268500, base({ contributors: 3 }), policy).isOutlier).toBe(true);
  });

  it('treats a zero MAD as an infinitely tight market', () => {
    const sut = judgeRate(120000, base({ mad: 0 }), policy);
    expect(sut.isOutlier).toBe(true);
    expect(Number.isFinite(sut.score)).toBe(true);
  });

  it('has no verdict without a baseline', () => {
    expect(
      judgeRate(1, { count: 0, contributors: 0, median: null, mad: null, windowHours: 72 }, policy),
    ).toMatchObject({ isOutlier: false, deviationPercent: null, score: null });
  });

  it('is exact at the limit: exactly 20% is not beyond it', () => {
    expect(judgeRate(107400, base({ mad: 1e6 }), policy).isOutlier).toBe(false);
  });
});
