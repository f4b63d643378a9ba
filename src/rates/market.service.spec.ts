import type { RatePartial } from './market.repository';
import { mergeByBucket, mergeTwo, planSpan, round6, vwapOf } from './market.service';

const d = (iso: string): Date => new Date(iso);
const spanOf = (start: string, end: string) => ({ start: d(start), end: d(end) });

const part = (over: Partial<RatePartial>): RatePartial => ({
  bucket: null,
  count: 1,
  volume: 100n,
  rateVolume: 9_000_000,
  rateSum: 90000,
  min: 90000,
  max: 90000,
  open: 90000,
  openAt: d('2025-03-10T10:00:00.000Z'),
  openId: 1,
  close: 90000,
  closeAt: d('2025-03-10T10:00:00.000Z'),
  closeId: 1,
  ...over,
});

describe('planSpan', () => {
  it('reads whole hours from the rollup and the cut edges from the raw samples', () => {
    const sut = planSpan(spanOf('2025-03-10T10:30:00.000Z', '2025-03-10T14:15:00.000Z'));
    expect(sut).toEqual([
      { source: 'raw', span: spanOf('2025-03-10T10:30:00.000Z', '2025-03-10T11:00:00.000Z') },
      { source: 'rollup', span: spanOf('2025-03-10T11:00:00.000Z', '2025-03-10T14:00:00.000Z') },
      { source: 'raw', span: spanOf('2025-03-10T14:00:00.000Z', '2025-03-10T14:15:00.000Z') },
    ]);
  });

  it('uses only the rollup when both ends are on hour boundaries', () => {
    const sut = planSpan(spanOf('2025-03-10T00:00:00.000Z', '2025-03-11T00:00:00.000Z'));
    expect(sut).toEqual([
      { source: 'rollup', span: spanOf('2025-03-10T00:00:00.000Z', '2025-03-11T00:00:00.000Z') },
    ]);
  });

  it('uses only the raw samples when no whole hour fits', () => {
    const within = spanOf('2025-03-10T10:15:00.000Z', '2025-03-10T10:45:00.000Z');
    expect(planSpan(within)).toEqual([{ source: 'raw', span: within }]);
    const across = spanOf('2025-03-10T10:00:00.001Z', '2025-03-10T11:59:59.999Z');
    expect(planSpan(across)).toEqual([{ source: 'raw', span: across }]);
  });

  it('treats a single whole hour as rollup', () => {
    expect(planSpan(spanOf('2025-03-10T10:00:00.000Z', '2025-03-10T11:00:00.000Z'))).toEqual([
      { source: 'rollup', span: spanOf('2025-03-10T10:00:00.000Z', '2025-03-10T11:00:00.000Z') },
    ]);
  });
});

describe('mergeTwo / mergeByBucket', () => {
  const early = part({
    count: 2,
    volume: 300n,
    rateVolume: 26_900_000,
    rateSum: 179_500,
    min: 89_500,
    max: 90_000,
    open: 89_500,
    openAt: d('2025-03-10T10:00:00.000Z'),
    openId: 7,
    close: 90_000,
    closeAt: d('2025-03-10T10:10:00.000Z'),
    closeId: 3,
  });
  const late = part({
    count: 1,
    volume: 100n,
    rateVolume: 9_100_000,
    rateSum: 91_000,
    min: 91_000,
    max: 91_000,
    open: 91_000,
    openAt: d('2025-03-10T11:00:00.000Z'),
    openId: 2,
    close: 91_000,
    closeAt: d('2025-03-10T11:00:00.000Z'),
    closeId: 2,
  });

  it('adds sums, keeps extremes and takes open/close by time whatever the argument order', () => {
    for (const sut of [mergeTwo(early, late), mergeTwo(late, early)]) {
      expect(sut).toMatchObject({ count: 3, volume: 400n, rateSum: 270_500, min: 89_500, max: 91_000 });
      expect(sut).toMatchObject({ open: 89_500, openId: 7, close: 91_000, closeId: 2 });
    }
  });

  it('breaks a time tie by id', () => {
    const a = part({ open: 1, openId: 5, close: 1, closeId: 5 });
    const b = part({ open: 2, openId: 4, close: 2, closeId: 4 });
    expect(mergeTwo(a, b)).toMatchObject({ open: 2, close: 1 });
  });

  it('groups by bucket, oldest first', () => {
    const b1 = d('2025-03-10T00:00:00.000Z');
    const b2 = d('2025-03-11T00:00:00.000Z');
    const sut = mergeByBucket([
      { ...late, bucket: b2 },
      { ...early, bucket: b1 },
      { ...late, bucket: b1 },
    ]);
    expect(sut.map((p) => [p.bucket, p.count])).toEqual([
      [b1, 3],
      [b2, 1],
    ]);
  });

  it('weights by volume and falls back to the plain mean without volume', () => {
    expect(vwapOf(mergeTwo(early, late))).toBeCloseTo(36_000_000 / 400, 9);
    expect(vwapOf(part({ count: 2, volume: 0n, rateVolume: 0, rateSum: 180_001 }))).toBe(90_000.5);
    expect(round6(1.23456789)).toBe(1.234568);
  });
});
