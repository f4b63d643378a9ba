import { AppError } from '../common/errors/app-error';
import type { Balances, WalletService } from '../wallet/wallet.service';
import type { AdminReportQueryDto } from './dto/reports.dto';
import type { ReportsRepository, UserTradeAggregate } from './reports.repository';
import type { ReadReplica } from '../database/read-replica';
import { ReportsService } from './reports.service';

const d = (iso: string): Date => new Date(iso);
const NOW = d('2025-03-20T12:00:00.000Z');
const BALANCES: Balances = { usdAvailable: 1n, lbpAvailable: 2n, usdHeld: 3n, lbpHeld: 4n };
const NO_TRADES: UserTradeAggregate = {
  count: 0,
  asBuyer: 0,
  asMaker: 0,
  usdVolume: 0n,
  lbpVolume: 0n,
  avgRate: null,
  minRate: null,
  maxRate: null,
};
const NO_TRADE_BUCKET = { count: 0, usd_volume: 0, lbp_volume: 0, avg_rate: null, vwap: null };
const NO_OPEN_OFFERS = {
  count: 0,
  past_expiry: 0,
  usd: { count: 0, escrow: 0 },
  lbp: { count: 0, escrow: 0 },
};
const NO_TRADE_TOTALS = { trades: 0, trade_usd_volume: 0, trade_lbp_volume: 0, trade_vwap: null };

function setup() {
  const repo = {
    userDirectionTotals: jest.fn().mockResolvedValue([]),
    userBusiestDay: jest.fn().mockResolvedValue(null),
    countTransactions: jest.fn().mockResolvedValue(7),
    countTransactionsByDirection: jest.fn().mockResolvedValue({ usdToLbp: 2, lbpToUsd: 3 }),
    transactionBuckets: jest.fn().mockResolvedValue([]),
    newUserBuckets: jest.fn().mockResolvedValue([]),
    outlierBuckets: jest.fn().mockResolvedValue([]),
    heldTotals: jest.fn().mockResolvedValue({ usdHeld: 10n, lbpHeld: 20n }),
    userTradeTotals: jest.fn().mockResolvedValue(NO_TRADES),
    tradeBuckets: jest.fn().mockResolvedValue([]),
    openOffers: jest.fn().mockResolvedValue([]),
  };
  const wallets = { balances: jest.fn().mockResolvedValue(BALANCES) };
  const clock = { now: () => NOW };
  const sut = new ReportsService(
    repo as unknown as ReportsRepository,
    wallets as unknown as WalletService,
    clock,
    // no replicas: every read runs on the primary, as here on the fakes
    { run: <T>(_userId: number | null, fn: () => Promise<T>) => fn() } as unknown as ReadReplica,
  );
  return { sut, repo, wallets };
}

describe('ReportsService', () => {
  describe('platformSummary range', () => {
    const rangeOf = async (q: AdminReportQueryDto) => {
      const { sut, repo } = setup();
      const r = await sut.platformSummary(q);
      expect(repo.transactionBuckets).toHaveBeenCalledWith({ from: d(r.from), to: d(r.to) }, r.bucket);
      return { from: r.from, to: r.to, bucket: r.bucket };
    };

    it('defaults to the last 30 days up to now, in day buckets', async () => {
      expect(await rangeOf({})).toEqual({
        from: '2025-02-18T12:00:00.000Z',
        to: '2025-03-20T12:00:00.000Z',
        bucket: 'day',
      });
    });

    it('fills a missing end: to = now, from = to - 30 days', async () => {
      expect(await rangeOf({ from: '2025-03-01', bucket: 'hour' })).toEqual({
        from: '2025-03-01T00:00:00.000Z',
        to: '2025-03-20T12:00:00.000Z',
        bucket: 'hour',
      });
      expect(await rangeOf({ to: '2025-01-31' })).toMatchObject({
        from: '2025-01-01T23:59:59.999Z',
        to: '2025-01-31T23:59:59.999Z',
      });
    });

    it.each([
      [{ from: '2025-03-21' }, 'from'],
      [{ from: '2025-03-02', to: '2025-03-01' }, 'from'],
      [{ from: '2024-01-01', to: '2025-01-01' }, 'to'],
    ])('refuses %p with 400 naming %s', async (q, field) => {
      const { sut, repo } = setup();
      const err = await sut.platformSummary(q).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', details: [{ field }] });
      expect(repo.transactionBuckets).not.toHaveBeenCalled();
    });

    it('accepts 366 whole days', async () => {
      expect(await rangeOf({ from: '2024-01-01', to: '2024-12-31' })).toMatchObject({
        to: '2024-12-31T23:59:59.999Z',
      });
    });
  });

  it('merges the three bucket lists, oldest first, and sums the totals exactly', async () => {
    const { sut, repo } = setup();
    repo.transactionBuckets.mockResolvedValue([
      {
        start: d('2025-03-02T00:00:00.000Z'),
        count: 2,
        usdVolume: 30n,
        lbpVolume: 2_687_000n,
        avgRate: 89550,
      },
      {
        start: d('2025-03-04T00:00:00.000Z'),
        count: 1,
        usdVolume: 9_007_199_254_740_993n,
        lbpVolume: 1n,
        avgRate: 1 / 3,
      },
    ]);
    repo.newUserBuckets.mockResolvedValue([{ start: d('2025-03-03T00:00:00.000Z'), count: 4 }]);
    repo.outlierBuckets.mockResolvedValue([{ start: d('2025-03-02T00:00:00.000Z'), count: 1 }]);
    const r = await sut.platformSummary({ from: '2025-03-01', to: '2025-03-05' });
    expect(r.buckets).toEqual([
      {
        t: '2025-03-02T00:00:00.000Z',
        transactions: { count: 2, usd_volume: 0.3, lbp_volume: 26870, avg_rate: 89550 },
        trades: NO_TRADE_BUCKET,
        new_users: 0,
        outliers_flagged: 1,
      },
      {
        t: '2025-03-03T00:00:00.000Z',
        transactions: { count: 0, usd_volume: 0, lbp_volume: 0, avg_rate: null },
        trades: NO_TRADE_BUCKET,
        new_users: 4,
        outliers_flagged: 0,
      },
      {
        t: '2025-03-04T00:00:00.000Z',
        transactions: {
          count: 1,
          usd_volume: Number('90071992547409.93'),
          lbp_volume: 0.01,
          avg_rate: 0.333333,
        },
        trades: NO_TRADE_BUCKET,
        new_users: 0,
        outliers_flagged: 0,
      },
    ]);
    expect(r.totals).toEqual({
      transactions: 3,
      usd_volume: Number('90071992547410.23'),
      lbp_volume: 26870.01,
      new_users: 4,
      outliers_flagged: 1,
      ...NO_TRADE_TOTALS,
    });
    expect(r.escrow).toEqual({ usd_held: 0.1, lbp_held: 0.2 });
    expect(r.open_offers).toEqual(NO_OPEN_OFFERS);
  });

  it('user summary: null rate figures without transactions, vwap rounded from the exact sums', async () => {
    const { sut, repo, wallets } = setup();
    repo.userDirectionTotals.mockResolvedValue([
      {
        usdToLbp: false,
        count: 3,
        usdVolume: 300n,
        lbpVolume: 26_850_001n,
        avgRate: 89500,
        minRate: 1,
        maxRate: 2,
      },
    ]);
    repo.userBusiestDay.mockResolvedValue({ start: d('2025-03-02T00:00:00.000Z'), count: 3 });
    const r = await sut.userSummary(9, {});
    expect(wallets.balances).toHaveBeenCalledWith(9);
    expect(r).toEqual({
      from: null,
      to: null,
      user_id: 9,
      directions: {
        usd_to_lbp: {
          count: 0,
          usd_volume: 0,
          lbp_volume: 0,
          avg_rate: null,
          vwap: null,
          min_rate: null,
          max_rate: null,
        },
        // 26,850,001 / 300 = 89500.003333... -> 89500.003333
        lbp_to_usd: {
          count: 3,
          usd_volume: 3,
          lbp_volume: 268500.01,
          avg_rate: 89500,
          vwap: 89500.003333,
          min_rate: 1,
          max_rate: 2,
        },
      },
      total_transactions: 3,
      busiest_day: { date: '2025-03-02', count: 3 },
      balances: { usd_balance: 0.01, lbp_balance: 0.02, usd_held: 0.03, lbp_held: 0.04 },
      trades: {
        count: 0,
        as_buyer: 0,
        as_seller: 0,
        as_maker: 0,
        as_taker: 0,
        usd_volume: 0,
        lbp_volume: 0,
        avg_rate: null,
        vwap: null,
        min_rate: null,
        max_rate: null,
      },
      open_offers: NO_OPEN_OFFERS,
      generated_at: NOW.toISOString(),
    });
  });

  it('user summary: trades from both sides, and the open offers of the caller right now', async () => {
    const { sut, repo } = setup();
    repo.userTradeTotals.mockResolvedValue({
      count: 5,
      asBuyer: 2,
      asMaker: 1,
      usdVolume: 300n,
      lbpVolume: 26_850_001n,
      avgRate: 89499.9999999,
      minRate: 89000,
      maxRate: 90000.1234567,
    });
    repo.openOffers.mockResolvedValue([
      { currency: 'LBP', count: 2, escrow: 99_999_999_999_999n, pastExpiry: 1 },
    ]);
    const range = { from: '2025-03-01', to: '2025-03-02' };
    const r = await sut.userSummary(9, range);
    expect(repo.userTradeTotals).toHaveBeenCalledWith(9, {
      from: d('2025-03-01T00:00:00.000Z'),
      to: d('2025-03-02T23:59:59.999Z'),
    });
    expect(repo.openOffers).toHaveBeenCalledWith(NOW, 9);
    expect(r.trades).toEqual({
      count: 5,
      as_buyer: 2,
      as_seller: 3,
      as_maker: 1,
      as_taker: 4,
      usd_volume: 3,
      lbp_volume: 268500.01,
      avg_rate: 89500,
      vwap: 89500.003333,
      min_rate: 89000,
      max_rate: 90000.123457,
    });
    expect(r.open_offers).toEqual({
      count: 2,
      past_expiry: 1,
      usd: { count: 0, escrow: 0 },
      lbp: { count: 2, escrow: 999_999_999_999.99 },
    });
  });

  it('platform summary: trade buckets next to the transactions, exact trade totals, open offers now', async () => {
    const { sut, repo } = setup();
    repo.transactionBuckets.mockResolvedValue([
      {
        start: d('2025-03-02T00:00:00.000Z'),
        count: 1,
        usdVolume: 100n,
        lbpVolume: 8_950_000n,
        avgRate: 89500,
      },
    ]);
    repo.tradeBuckets.mockResolvedValue([
      {
        start: d('2025-03-02T00:00:00.000Z'),
        count: 2,
        usdVolume: 300n,
        lbpVolume: 26_850_001n,
        avgRate: 89500.5,
      },
      {
        start: d('2025-03-03T00:00:00.000Z'),
        count: 1,
        usdVolume: 1_117_318_436n,
        lbpVolume: 99_999_999_999_999n,
        avgRate: 89500.00000089,
      },
    ]);
    repo.openOffers.mockResolvedValue([
      { currency: 'USD', count: 3, escrow: 30n, pastExpiry: 1 },
      { currency: 'LBP', count: 1, escrow: 1n, pastExpiry: 0 },
    ]);
    const r = await sut.platformSummary({ from: '2025-03-01', to: '2025-03-05' });
    expect(repo.openOffers).toHaveBeenCalledWith(NOW);
    expect(r.buckets).toEqual([
      {
        t: '2025-03-02T00:00:00.000Z',
        transactions: { count: 1, usd_volume: 1, lbp_volume: 89500, avg_rate: 89500 },
        trades: { count: 2, usd_volume: 3, lbp_volume: 268500.01, avg_rate: 89500.5, vwap: 89500.003333 },
        new_users: 0,
        outliers_flagged: 0,
      },
      {
        t: '2025-03-03T00:00:00.000Z',
        transactions: { count: 0, usd_volume: 0, lbp_volume: 0, avg_rate: null },
        trades: {
          count: 1,
          usd_volume: 11_173_184.36,
          lbp_volume: 999_999_999_999.99,
          avg_rate: 89500.000001,
          // 99,999,999,999,999 / 1,117,318,436 = 89499.99998030...
          vwap: 89499.99998,
        },
        new_users: 0,
        outliers_flagged: 0,
      },
    ]);
    // 100,000,026,850,000 / 1,117,318,736 = 89499.99998031...
    expect(r.totals).toMatchObject({
      transactions: 1,
      trades: 3,
      trade_usd_volume: 11_173_187.36,
      trade_lbp_volume: 1_000_000_268_500,
      trade_vwap: 89499.99998,
    });
    expect(r.open_offers).toEqual({
      count: 4,
      past_expiry: 1,
      usd: { count: 3, escrow: 0.3 },
      lbp: { count: 1, escrow: 0.01 },
    });
  });

  it('transaction stats: the 72 h window ends at the clock', async () => {
    const { sut, repo } = setup();
    expect(await sut.transactionStats()).toEqual({
      total_transactions_all_time: 7,
      total_transactions_last_72h: 5,
      usd_to_lbp_last_72h: 2,
      lbp_to_usd_last_72h: 3,
      window_start: '2025-03-17T12:00:00.000Z',
      window_end: '2025-03-20T12:00:00.000Z',
    });
    expect(repo.countTransactionsByDirection).toHaveBeenCalledWith({
      from: d('2025-03-17T12:00:00.000Z'),
      to: NOW,
    });
  });
});
