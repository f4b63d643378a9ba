import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { DateRangeQueryDto } from '../../common/date-range.dto';
import { BUCKETS, type Bucket } from '../../users/user-preferences.entity';

/** `from`/`to` of GET /reports/summary; both optional (omitted = no bound: all time). */
export class ReportRangeQueryDto extends DateRangeQueryDto {}

/**
 * GET /admin/reports/summary: always a bounded range of at most 366 days (omitted `to` = now,
 * omitted `from` = 30 days before `to`).
 */
export class AdminReportQueryDto extends DateRangeQueryDto {
  /** UTC hour or day buckets. */
  @ApiProperty({ enum: BUCKETS, required: false, default: 'day' })
  @IsOptional()
  @IsIn(BUCKETS)
  bucket?: Bucket;
}

/** One direction's figures. Rate figures are LBP per USD and null when there is no transaction. */
export class DirectionReportDto {
  count!: number;
  /** USD exchanged, major units (summed exactly). */
  usd_volume!: number;
  /** LBP exchanged, major units (summed exactly). */
  lbp_volume!: number;
  /** Plain average of the transactions' rates. */
  avg_rate!: number | null;
  /** USD-volume-weighted average rate (= lbp_volume / usd_volume). */
  vwap!: number | null;
  min_rate!: number | null;
  max_rate!: number | null;
}

export class DirectionsReportDto {
  /** Transactions selling USD for LBP. */
  usd_to_lbp!: DirectionReportDto;
  /** Transactions buying USD with LBP. */
  lbp_to_usd!: DirectionReportDto;
}

export class BusiestDayDto {
  /** UTC day, YYYY-MM-DD. */
  @ApiProperty({ format: 'date', example: '2026-01-31' })
  date!: string;
  /** Transactions (both directions) on that day. */
  count!: number;
}

/** Current balances (not limited to the range). */
export class ReportBalancesDto {
  usd_balance!: number;
  lbp_balance!: number;
  /** Escrowed in open offers. */
  usd_held!: number;
  lbp_held!: number;
}

/**
 * Your marketplace trades in the range, from either side. Amounts are major units summed exactly;
 * rate figures are LBP per USD and null when there is no trade.
 */
export class UserTradesReportDto {
  /** Trades you were a side of. */
  count!: number;
  /** Trades in which you received USD (paid LBP). */
  as_buyer!: number;
  /** Trades in which you received LBP (paid USD). */
  as_seller!: number;
  /** Trades of your own offers, taken by someone else. */
  as_maker!: number;
  /** Trades in which you took someone else's offer. */
  as_taker!: number;
  /** USD that changed hands in these trades (bought and sold together). */
  usd_volume!: number;
  /** LBP that changed hands in these trades (bought and sold together). */
  lbp_volume!: number;
  /** Plain average of the trades' rates. */
  avg_rate!: number | null;
  /** Volume-weighted average rate: lbp_volume / usd_volume, from the exact sums. */
  vwap!: number | null;
  min_rate!: number | null;
  max_rate!: number | null;
}

/** OPEN offers giving one currency, right now. */
export class OpenOffersCurrencyDto {
  /** OPEN offers that give this currency. */
  count!: number;
  /** Their remaining give amounts: what they hold in escrow, major units of this currency (exact). */
  escrow!: number;
}

/**
 * Offers in status OPEN right now (not limited to the range) and the escrow they hold. An offer past
 * its expiry still holds its escrow until the expiry sweep closes it, so it is counted here and also
 * in `past_expiry`.
 */
export class OpenOffersDto {
  /** All OPEN offers (both give currencies). */
  count!: number;
  /** Of `count`, offers already past `expires_at` that the sweep has not closed yet. */
  past_expiry!: number;
  /** OPEN offers giving USD; `escrow` in USD. */
  usd!: OpenOffersCurrencyDto;
  /** OPEN offers giving LBP; `escrow` in LBP. */
  lbp!: OpenOffersCurrencyDto;
}

export class UserReportDto {
  /** Start of the range, or null when unbounded. */
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  from!: string | null;
  /** End of the range, or null when unbounded. */
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  to!: string | null;
  user_id!: number;
  directions!: DirectionsReportDto;
  total_transactions!: number;
  /** The UTC day with the most transactions in the range (the earliest on a tie); null without any. */
  busiest_day!: BusiestDayDto | null;
  balances!: ReportBalancesDto;
  /** Your P2P marketplace trades in the range (the figures above are transactions only). */
  trades!: UserTradesReportDto;
  /** Your offers that are OPEN right now (not limited to the range). */
  open_offers!: OpenOffersDto;
  /** When the report was computed (the moment the balances and open offers are from). */
  @ApiProperty({ format: 'date-time' })
  generated_at!: string;
}

export class TransactionStatsDto {
  total_transactions_all_time!: number;
  /** Transactions in [window_start, window_end]. */
  total_transactions_last_72h!: number;
  /** Count of usd_to_lbp transactions in the window. */
  usd_to_lbp_last_72h!: number;
  /** Count of lbp_to_usd transactions in the window. */
  lbp_to_usd_last_72h!: number;
  /** now − 72 h. */
  @ApiProperty({ format: 'date-time' })
  window_start!: string;
  /** now. */
  @ApiProperty({ format: 'date-time' })
  window_end!: string;
}

export class BucketTransactionsDto {
  count!: number;
  usd_volume!: number;
  lbp_volume!: number;
  /** Plain average rate of the bucket's transactions (both directions); null when count is 0. */
  avg_rate!: number | null;
}

/** Marketplace trades of one bucket. Rate figures are LBP per USD, null when count is 0. */
export class BucketTradesDto {
  count!: number;
  /** USD that changed hands, major units (summed exactly). */
  usd_volume!: number;
  /** LBP that changed hands, major units (summed exactly). */
  lbp_volume!: number;
  /** Plain average of the trades' rates. */
  avg_rate!: number | null;
  /** Volume-weighted average rate: lbp_volume / usd_volume, from the exact sums. */
  vwap!: number | null;
}

export class ReportBucketDto {
  /** Bucket start (UTC hour or day). The first and last buckets may extend past the range. */
  @ApiProperty({ format: 'date-time' })
  t!: string;
  transactions!: BucketTransactionsDto;
  /** P2P marketplace trades settled in the bucket. */
  trades!: BucketTradesDto;
  /** Accounts registered in the bucket. */
  new_users!: number;
  /** Rate samples created in the bucket that are marked as outliers. */
  outliers_flagged!: number;
}

export class ReportTotalsDto {
  /** Transactions in the range. */
  transactions!: number;
  /** USD volume of those transactions. */
  usd_volume!: number;
  /** LBP volume of those transactions. */
  lbp_volume!: number;
  new_users!: number;
  outliers_flagged!: number;
  /** Marketplace trades in the range. */
  trades!: number;
  /** USD that changed hands in those trades, major units (summed exactly). */
  trade_usd_volume!: number;
  /** LBP that changed hands in those trades, major units (summed exactly). */
  trade_lbp_volume!: number;
  /** Volume-weighted average trade rate over the range (trade_lbp_volume / trade_usd_volume); null without trades. */
  trade_vwap!: number | null;
}

/** Sum of every wallet's held (escrowed) balance right now. */
export class EscrowDto {
  usd_held!: number;
  lbp_held!: number;
}

export class PlatformReportDto {
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ enum: BUCKETS })
  bucket!: Bucket;
  /** Buckets with any activity, oldest first. */
  buckets!: ReportBucketDto[];
  totals!: ReportTotalsDto;
  escrow!: EscrowDto;
  /** Every OPEN offer right now (not limited to the range): counts and escrow per give currency. */
  open_offers!: OpenOffersDto;
  @ApiProperty({ format: 'date-time' })
  generated_at!: string;
}
