import type { AuditService } from '../audit/audit.service';
import type { AppConfig } from '../config/app-config';
import type { TransactionRunner } from '../database/transaction-runner';
import type { NotificationsService } from '../notifications/notifications.service';
import type { ReferenceRateService } from '../rates/reference-rate.service';
import type { WatchlistItemEntity } from './watchlist-item.entity';
import type { WatchlistRepository } from './watchlist.repository';
import { changePercent, WATCHLIST_BIG_MOVE, WatchlistService } from './watchlist.service';

const NOW = new Date('2026-06-10T12:00:00.000Z');

function item(over: Partial<WatchlistItemEntity>): WatchlistItemEntity {
  return {
    id: 1,
    userId: 7,
    itemType: 'threshold',
    direction: 'usd_to_lbp',
    condition: 'above',
    threshold: 90000,
    armed: true,
    dedupeKey: 'k',
    lastNotifiedAt: null,
    lastNotifiedDay: '',
    createdAt: NOW,
    ...over,
  };
}

describe('changePercent', () => {
  it('is the percent change, null when either rate is unknown', () => {
    expect(changePercent(105, 100)).toBe(5);
    expect(changePercent(95, 100)).toBe(-5);
    expect(changePercent(null, 100)).toBeNull();
    expect(changePercent(100, null)).toBeNull();
  });
});

describe('WatchlistService.sweep', () => {
  /** Market rates per direction: [now, 24 h ago]. */
  let rates: Record<string, [number | null, number | null]>;
  let repo: jest.Mocked<
    Pick<WatchlistRepository, 'backBehind' | 'rearm' | 'crossedArmed' | 'disarm' | 'dueForDay' | 'markDay'>
  >;
  let notify: jest.Mock;
  let sut: WatchlistService;

  beforeEach(() => {
    rates = { usd_to_lbp: [null, null], lbp_to_usd: [null, null] };
    repo = {
      backBehind: jest.fn().mockResolvedValue([]),
      rearm: jest.fn().mockResolvedValue(1),
      crossedArmed: jest.fn().mockResolvedValue([]),
      disarm: jest.fn().mockResolvedValue(1),
      dueForDay: jest.fn().mockResolvedValue([]),
      markDay: jest.fn().mockResolvedValue(1),
    };
    notify = jest.fn().mockResolvedValue(true);
    const reference = {
      published: jest.fn(() =>
        Promise.resolve({
          usd_to_lbp: { rate: rates.usd_to_lbp[0] },
          lbp_to_usd: { rate: rates.lbp_to_usd[0] },
        }),
      ),
      referenceAt: jest.fn((d: string, at: Date) => {
        expect(at.getTime()).toBe(NOW.getTime() - 24 * 3600_000);
        return Promise.resolve({ rate: rates[d][1] });
      }),
    };
    const tx = { run: jest.fn((fn: (m: unknown) => Promise<unknown>) => fn({})) };
    sut = new WatchlistService(
      repo as unknown as WatchlistRepository,
      reference as unknown as ReferenceRateService,
      { notify } as unknown as NotificationsService,
      { record: jest.fn() } as unknown as AuditService,
      tx as unknown as TransactionRunner,
      { now: () => NOW },
      {
        rates: { marketWindowHours: 2 },
        watchlist: { movePercent: 5, hysteresisPercent: 0.25 },
      } as AppConfig,
    );
  });

  it('does nothing without market data', async () => {
    expect(await sut.sweep()).toEqual({ thresholdNotified: 0, rearmed: 0, bigMoveNotified: 0 });
    expect(repo.backBehind).not.toHaveBeenCalled();
    expect(repo.crossedArmed).not.toHaveBeenCalled();
  });

  it('notifies a crossing back past the 0.25% band when its re-arm won', async () => {
    rates.usd_to_lbp = [89000, 89100];
    repo.backBehind.mockResolvedValueOnce([item({ id: 5, armed: false }), item({ id: 6, armed: false })]);
    repo.rearm.mockResolvedValueOnce(1).mockResolvedValueOnce(0); // another instance re-armed item 6
    const r = await sut.sweep();
    expect(repo.backBehind).toHaveBeenCalledWith('usd_to_lbp', 89000, 0.0025, 0, 200);
    expect(r).toMatchObject({ rearmed: 1, thresholdNotified: 1 });
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith(
      expect.objectContaining({
        refId: 5,
        eventType: 'WATCHLIST_THRESHOLD_CROSSED',
        occasion: `${NOW.toISOString()}:back`,
      }),
      {},
    );
  });

  it('notifies crossed items only when its disarm won', async () => {
    rates.usd_to_lbp = [90500, 90400];
    repo.crossedArmed.mockResolvedValueOnce([item({ id: 1 }), item({ id: 2 })]);
    repo.disarm.mockResolvedValueOnce(1).mockResolvedValueOnce(0); // another instance disarmed item 2
    const r = await sut.sweep();
    expect(r.thresholdNotified).toBe(1);
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith(
      expect.objectContaining({
        userId: 7,
        eventType: 'WATCHLIST_THRESHOLD_CROSSED',
        refType: 'watchlist',
        refId: 1,
        occasion: NOW.toISOString(),
      }),
      {},
    );
  });

  it('notifies direction items once per UTC day when |24 h change| reaches 5%', async () => {
    rates.lbp_to_usd = [95000, 100000]; // -5%
    repo.dueForDay.mockResolvedValue([
      item({ id: 3, itemType: 'direction', condition: null, threshold: null }),
    ]);
    const r = await sut.sweep();
    expect(repo.dueForDay).toHaveBeenCalledWith('lbp_to_usd', '2026-06-10', 0, 200);
    expect(repo.markDay).toHaveBeenCalledWith(3, '2026-06-10', NOW, {});
    expect(r.bigMoveNotified).toBe(1);
    expect(notify).toHaveBeenCalledWith(
      expect.objectContaining({ eventType: WATCHLIST_BIG_MOVE, refId: 3, occasion: '2026-06-10' }),
      {},
    );

    rates.lbp_to_usd = [104990, 100000]; // +4.99%: below the limit
    notify.mockClear();
    expect((await sut.sweep()).bigMoveNotified).toBe(0);
    expect(notify).not.toHaveBeenCalled();
  });
});
