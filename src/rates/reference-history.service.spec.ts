import type { Clock } from '../common/clock';
import { MaintenanceState } from '../common/maintenance';
import type { AppConfig } from '../config/app-config';
import type { HistoryRow, ReferenceHistoryRepository } from './reference-history.repository';
import { ReferenceHistoryService } from './reference-history.service';
import type { ReferenceRates, ReferenceRateService } from './reference-rate.service';

const at = (s: string): Date => new Date(`2026-12-07T${s}Z`);

function rates(usdToLbp: number | null, lbpToUsd: number | null, contributors = 5): ReferenceRates {
  const one = (rate: number | null) => ({
    rate,
    contributors,
    samples: contributors,
    updatedAt: at('10:00:00'),
  });
  return { usd_to_lbp: one(usdToLbp), lbp_to_usd: one(lbpToUsd) };
}

describe('ReferenceHistoryService', () => {
  let written: HistoryRow[][];
  let fail: boolean;
  let sut: ReferenceHistoryService;

  beforeEach(() => {
    written = [];
    fail = false;
    const repo = {
      merge: (rows: HistoryRow[]) => {
        if (fail) return Promise.reject(new Error('database away'));
        written.push(rows.map((r) => ({ ...r })));
        return Promise.resolve();
      },
    } as unknown as ReferenceHistoryRepository;
    const reference = { onChange: () => undefined } as unknown as ReferenceRateService;
    const config = { rates: { historyFlushMs: 1000, marketWindowHours: 72 } } as AppConfig;
    sut = new ReferenceHistoryService(repo, reference, {} as Clock, new MaintenanceState(), config);
  });

  const minuteRows = (series: string) =>
    written.flat().filter((r) => r.series === series && r.bucket === 'minute');

  it("keeps each bucket's lowest, highest and last value, per series and bucket size, in one write", async () => {
    sut.observe(rates(89_500, 89_700), at('10:00:05'));
    sut.observe(rates(90_100, 89_700), at('10:00:20'));
    sut.observe(rates(89_800, 89_700), at('10:00:40'));
    await sut.flush();
    expect(written).toHaveLength(1);
    expect(minuteRows('usd_to_lbp')).toEqual([
      expect.objectContaining({ mid: 89_800, low: 89_500, high: 90_100, midAt: at('10:00:40') }),
    ]);
    // the mid between the directions, and hour and day buckets of every series
    expect(minuteRows('mid')).toEqual([expect.objectContaining({ mid: 89_750, low: 89_600, high: 89_900 })]);
    expect(written[0]).toHaveLength(9);
  });

  it('writes nothing when nothing changed, and a new minute once', async () => {
    sut.observe(rates(89_500, null), at('10:00:05'));
    await sut.flush();
    sut.observe(rates(89_500, null), at('10:00:30'));
    await sut.flush();
    expect(written).toHaveLength(1);
    sut.observe(rates(89_500, null), at('10:01:01'));
    await sut.flush();
    expect(written).toHaveLength(2);
    // only the new minutes: the hour and day rows already hold this value
    expect(written[1].map((r) => `${r.series}:${r.bucket}`).sort()).toEqual([
      'mid:minute',
      'usd_to_lbp:minute',
    ]);
  });

  it('an unpublished direction is not kept; nothing published, nothing written', async () => {
    sut.observe(rates(null, null), at('10:00:05'));
    await sut.flush();
    expect(written).toHaveLength(0);
  });

  it('a failed write keeps its buckets for the next flush, merged with newer observations', async () => {
    sut.observe(rates(89_500, null), at('10:00:05'));
    fail = true;
    await expect(sut.flush()).rejects.toThrow('database away');
    fail = false;
    sut.observe(rates(91_000, null), at('10:00:09'));
    await sut.flush();
    expect(minuteRows('usd_to_lbp')).toEqual([
      expect.objectContaining({ low: 89_500, high: 91_000, mid: 91_000 }),
    ]);
  });
});
