import { toMajor, roundRate } from '../common/money';
import type { Bucket } from '../users/user-preferences.entity';
import type { Balances } from '../wallet/wallet.service';
import type {
  BucketTradesDto,
  BucketTransactionsDto,
  DirectionReportDto,
  OpenOffersDto,
  PlatformReportDto,
  ReportBucketDto,
  TransactionStatsDto,
  UserReportDto,
  UserTradesReportDto,
} from './dto/reports.dto';
import type {
  CountBucket,
  DirectionAggregate,
  HeldTotals,
  OpenOfferAggregate,
  TimeRange,
  TradeBucket,
  TransactionBucket,
  UserTradeAggregate,
} from './reports.repository';

function rate(value: number | null): number | null {
  return value === null ? null : roundRate(value);
}

/** lbp / usd rounded half-up to 6 decimals, in integers (both minor units, so the ratio is the rate). */
function ratio(lbp: bigint, usd: bigint): number | null {
  if (usd <= 0n) return null;
  return Number((lbp * 2_000_000n + usd) / (2n * usd)) / 1e6;
}

function toDirectionDto(a: DirectionAggregate | undefined): DirectionReportDto {
  if (!a || a.count === 0) {
    return {
      count: 0,
      usd_volume: 0,
      lbp_volume: 0,
      avg_rate: null,
      vwap: null,
      min_rate: null,
      max_rate: null,
    };
  }
  return {
    count: a.count,
    usd_volume: toMajor(a.usdVolume),
    lbp_volume: toMajor(a.lbpVolume),
    avg_rate: rate(a.avgRate),
    vwap: ratio(a.lbpVolume, a.usdVolume),
    min_rate: rate(a.minRate),
    max_rate: rate(a.maxRate),
  };
}

function toUserTradesDto(a: UserTradeAggregate): UserTradesReportDto {
  const empty = a.count === 0;
  return {
    count: a.count,
    as_buyer: a.asBuyer,
    as_seller: a.count - a.asBuyer,
    as_maker: a.asMaker,
    as_taker: a.count - a.asMaker,
    usd_volume: toMajor(a.usdVolume),
    lbp_volume: toMajor(a.lbpVolume),
    avg_rate: empty ? null : rate(a.avgRate),
    vwap: empty ? null : ratio(a.lbpVolume, a.usdVolume),
    min_rate: empty ? null : rate(a.minRate),
    max_rate: empty ? null : rate(a.maxRate),
  };
}

function toOpenOffersDto(rows: OpenOfferAggregate[]): OpenOffersDto {
  const of = (currency: 'USD' | 'LBP') => {
    const row = rows.find((r) => r.currency === currency);
    return { count: row?.count ?? 0, escrow: toMajor(row?.escrow ?? 0n) };
  };
  const usd = of('USD');
  const lbp = of('LBP');
  return {
    count: usd.count + lbp.count,
    past_expiry: rows.reduce((n, r) => n + r.pastExpiry, 0),
    usd,
    lbp,
  };
}

export function toUserReportDto(input: {
  userId: number;
  range: TimeRange;
  directions: DirectionAggregate[];
  busiestDay: CountBucket | null;
  balances: Balances;
  trades: UserTradeAggregate;
  openOffers: OpenOfferAggregate[];
  now: Date;
}): UserReportDto {
  const sell = toDirectionDto(input.directions.find((d) => d.usdToLbp));
  const buy = toDirectionDto(input.directions.find((d) => !d.usdToLbp));
  const b = input.balances;
  return {
    from: input.range.from?.toISOString() ?? null,
    to: input.range.to?.toISOString() ?? null,
    user_id: input.userId,
    directions: { usd_to_lbp: sell, lbp_to_usd: buy },
    total_transactions: sell.count + buy.count,
    busiest_day: input.busiestDay
      ? { date: input.busiestDay.start.toISOString().slice(0, 10), count: input.busiestDay.count }
      : null,
    balances: {
      usd_balance: toMajor(b.usdAvailable),
      lbp_balance: toMajor(b.lbpAvailable),
      usd_held: toMajor(b.usdHeld),
      lbp_held: toMajor(b.lbpHeld),
    },
    trades: toUserTradesDto(input.trades),
    open_offers: toOpenOffersDto(input.openOffers),
    generated_at: input.now.toISOString(),
  };
}

export function toTransactionStatsDto(input: {
  allTime: number;
  usdToLbp: number;
  lbpToUsd: number;
  windowStart: Date;
  windowEnd: Date;
}): TransactionStatsDto {
  return {
    total_transactions_all_time: input.allTime,
    total_transactions_last_72h: input.usdToLbp + input.lbpToUsd,
    usd_to_lbp_last_72h: input.usdToLbp,
    lbp_to_usd_last_72h: input.lbpToUsd,
    window_start: input.windowStart.toISOString(),
    window_end: input.windowEnd.toISOString(),
  };
}

const NO_TRANSACTIONS: BucketTransactionsDto = { count: 0, usd_volume: 0, lbp_volume: 0, avg_rate: null };
const NO_TRADES: BucketTradesDto = { count: 0, usd_volume: 0, lbp_volume: 0, avg_rate: null, vwap: null };

/**
 * Merges the per-bucket aggregates of the four sources into one list of the buckets that saw any
 * activity, oldest first, and sums the totals exactly (bigint) from the same aggregates.
 */
export function toPlatformReportDto(input: {
  from: Date;
  to: Date;
  bucket: Bucket;
  transactions: TransactionBucket[];
  trades: TradeBucket[];
  newUsers: CountBucket[];
  outliers: CountBucket[];
  held: HeldTotals;
  openOffers: OpenOfferAggregate[];
  now: Date;
}): PlatformReportDto {
  const byStart = new Map<number, ReportBucketDto>();
  const at = (start: Date): ReportBucketDto => {
    const key = start.getTime();
    let row = byStart.get(key);
    if (!row) {
      row = {
        t: start.toISOString(),
        transactions: { ...NO_TRANSACTIONS },
        trades: { ...NO_TRADES },
        new_users: 0,
        outliers_flagged: 0,
      };
      byStart.set(key, row);
    }
    return row;
  };
  let usdVolume = 0n;
  let lbpVolume = 0n;
  let transactions = 0;
  for (const b of input.transactions) {
    at(b.start).transactions = {
      count: b.count,
      usd_volume: toMajor(b.usdVolume),
      lbp_volume: toMajor(b.lbpVolume),
      avg_rate: rate(b.avgRate),
    };
    transactions += b.count;
    usdVolume += b.usdVolume;
    lbpVolume += b.lbpVolume;
  }
  let tradeUsd = 0n;
  let tradeLbp = 0n;
  let trades = 0;
  for (const b of input.trades) {
    at(b.start).trades = {
      count: b.count,
      usd_volume: toMajor(b.usdVolume),
      lbp_volume: toMajor(b.lbpVolume),
      avg_rate: rate(b.avgRate),
      vwap: ratio(b.lbpVolume, b.usdVolume),
    };
    trades += b.count;
    tradeUsd += b.usdVolume;
    tradeLbp += b.lbpVolume;
  }
  let newUsers = 0;
  for (const b of input.newUsers) {
    at(b.start).new_users = b.count;
    newUsers += b.count;
  }
  let outliers = 0;
  for (const b of input.outliers) {
    at(b.start).outliers_flagged = b.count;
    outliers += b.count;
  }
  const buckets = [...byStart.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    bucket: input.bucket,
    buckets,
    totals: {
      transactions,
      usd_volume: toMajor(usdVolume),
      lbp_volume: toMajor(lbpVolume),
      new_users: newUsers,
      outliers_flagged: outliers,
      trades,
      trade_usd_volume: toMajor(tradeUsd),
      trade_lbp_volume: toMajor(tradeLbp),
      trade_vwap: ratio(tradeLbp, tradeUsd),
    },
    escrow: { usd_held: toMajor(input.held.usdHeld), lbp_held: toMajor(input.held.lbpHeld) },
    open_offers: toOpenOffersDto(input.openOffers),
    generated_at: input.now.toISOString(),
  };
}
