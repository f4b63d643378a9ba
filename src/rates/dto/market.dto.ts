import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { DateRangeQueryDto } from '../../common/date-range.dto';
import { PageQueryDto } from '../../common/pagination';
import { BUCKETS, type Bucket } from '../../users/user-preferences.entity';
import { DIRECTIONS, type Direction } from '../rate-sample.entity';
import {
  HISTORY_BUCKETS,
  HISTORY_SERIES,
  type HistoryBucket,
  type HistorySeries,
} from '../reference-history.entity';

export const SCOPES = ['market', 'mine'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Query of the analytics route; `from` and `to` come together or not at all (omitted: the last
 * `default_range_hours` of your preferences; at most 366 days).
 */
export class AnalyticsQueryDto extends DateRangeQueryDto {
  @ApiProperty({ enum: DIRECTIONS })
  @IsIn(DIRECTIONS)
  direction!: Direction;

  /**
   * `market`: statistics of everyone's accepted samples, weighted by volume (default; not the
   * reference rate of GET /exchangeRate, which counts each contributor once); `mine`: only your own
   * (outliers excluded too).
   */
  @ApiProperty({ enum: SCOPES, required: false, default: 'market' })
  @IsOptional()
  @IsIn(SCOPES)
  scope?: Scope;
}

export class HistoryQueryDto extends AnalyticsQueryDto {
  /** Bucket size (UTC hours or days); default from your preferences. */
  @ApiProperty({ enum: BUCKETS, required: false })
  @IsOptional()
  @IsIn(BUCKETS)
  bucket?: Bucket;
}

export class ExchangeRateSamplesDto {
  /** Accepted samples in the window behind the rate (an account's dust left out). */
  usd_to_lbp!: number;
  lbp_to_usd!: number;
}

export class ExchangeRateContributorsDto {
  /** Distinct contributors in the window (an account counts once; admin and feed samples each once). */
  usd_to_lbp!: number;
  lbp_to_usd!: number;
}

export class OfficialRateDto {
  /** LBP per 1 USD (selling USD), as the source publishes it. */
  usd_to_lbp!: number;
  /** LBP per 1 USD (buying USD); the same as usd_to_lbp unless the source quotes two. */
  lbp_to_usd!: number;
  /** Who publishes it, e.g. "Banque du Liban". */
  source!: string;
  @ApiProperty({ format: 'date-time' })
  effective_at!: string;
}

export class GapPercentDto {
  /** (reference - official) / official x 100, or null without either. */
  @ApiProperty({ type: Number, nullable: true })
  usd_to_lbp!: number | null;
  @ApiProperty({ type: Number, nullable: true })
  lbp_to_usd!: number | null;
}

/** GET /exchangeRate/official: the official rate in force (fields null when none was ever set) and the gap. */
export class OfficialRateNowDto {
  @ApiProperty({ type: Number, nullable: true, example: 89500 })
  usd_to_lbp!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 89500 })
  lbp_to_usd!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'Banque du Liban' })
  source!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  effective_at!: string | null;
  gap_percent!: GapPercentDto;
}

/** One entry of the official series (GET /exchangeRate/official/history, PUT /admin/rates/official). */
export class OfficialRateEntryDto extends OfficialRateDto {
  id!: number;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  /** Whether it is the entry in force now. */
  in_force!: boolean;
}

/**
 * The reference rate of each direction: the median over the contributors of the window, each account
 * counting once with the volume-weighted average of its samples of at least RATE_MIN_SAMPLE_USD, so
 * that one account cannot move it; null with fewer than RATE_MIN_CONTRIBUTORS contributors.
 */
export class ExchangeRateDto {
  /** LBP per USD for people selling USD; null without a trustworthy figure. */
  @ApiProperty({ type: Number, nullable: true, example: 89500 })
  usd_to_lbp!: number | null;

  /** LBP per USD for people buying USD; null without a trustworthy figure. */
  @ApiProperty({ type: Number, nullable: true, example: 89700 })
  lbp_to_usd!: number | null;

  /** The trailing window the rates cover (MARKET_RATE_WINDOW_HOURS). */
  window_hours!: number;

  samples!: ExchangeRateSamplesDto;

  contributors!: ExchangeRateContributorsDto;

  /** Time of the newest sample behind the rates, or null. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: string | null;

  /** The official rate in force (PUT /admin/rates/official), or null: shown beside, never part of the reference. */
  @ApiProperty({ type: OfficialRateDto, nullable: true })
  official!: OfficialRateDto | null;

  /** How far the street reference is from the official rate, in percent. */
  gap_percent!: GapPercentDto;
}

export class AnalyticsDto {
  @ApiProperty({ format: 'date-time' })
  from!: string;

  /** Inclusive end. */
  @ApiProperty({ format: 'date-time' })
  to!: string;

  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;

  @ApiProperty({ enum: SCOPES })
  scope!: Scope;

  /** Number of accepted samples in the range. */
  total_transactions!: number;
  min_rate!: number;
  max_rate!: number;
  /** Plain mean of the rates. */
  avg_rate!: number;
  /** USD-volume-weighted average rate. */
  vwap!: number;
  /** Rate of the first sample (by time, then id). */
  first_rate!: number;
  /** Rate of the last sample (by time, then id). */
  last_rate!: number;
  /** (last_rate - first_rate) / first_rate x 100. */
  percentage_change!: number;
}

export class HistoryPointDto {
  /** Bucket start, UTC (before `from` when the range starts inside a bucket). */
  @ApiProperty({ format: 'date-time' })
  t!: string;
  /** USD-volume-weighted average rate of the bucket. */
  rate!: number;
  /** Accepted samples in the bucket. */
  count!: number;
  open!: number;
  high!: number;
  low!: number;
  close!: number;
  /** USD volume, major units. */
  volume_usd!: number;
}

export class HistoryDto {
  @ApiProperty({ enum: BUCKETS })
  bucket!: Bucket;

  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;

  @ApiProperty({ enum: SCOPES })
  scope!: Scope;

  @ApiProperty({ format: 'date-time' })
  from!: string;

  @ApiProperty({ format: 'date-time' })
  to!: string;

  /** Buckets that have samples, oldest first. */
  @ApiProperty({ type: [HistoryPointDto] })
  points!: HistoryPointDto[];
}

/**
 * Query of GET /exchangeRate/history. Omitted range: the last 24 hours (bucket `minute`), 30 days
 * (`hour`) or 365 days (`day`) up to now. At most 7 days of minutes, 366 days of hours, 3,660 days
 * of days per request.
 */
export class ReferenceHistoryQueryDto extends DateRangeQueryDto {
  /** A direction's published reference, or `mid`: the house's mid between the two (what its guard reads). */
  @ApiProperty({ enum: HISTORY_SERIES })
  @IsIn(HISTORY_SERIES)
  direction!: HistorySeries;

  /** Bucket size; default from the range (up to 2 days: minute, up to 90 days: hour, else day). */
  @ApiProperty({ enum: HISTORY_BUCKETS, required: false })
  @IsOptional()
  @IsIn(HISTORY_BUCKETS)
  bucket?: HistoryBucket;
}

export class ReferenceHistoryPointDto {
  /** Bucket start (UTC). */
  @ApiProperty({ format: 'date-time' })
  t!: string;
  /** The last value published in the bucket (LBP per USD). */
  mid!: number;
  /** The lowest value published in the bucket. */
  low!: number;
  /** The highest value published in the bucket. */
  high!: number;
  /** Contributors behind the last value. */
  contributors!: number;
}

/**
 * The published reference itself over time (what GET /exchangeRate said), kept per minute from the
 * moment it was published, never recomputed from samples; buckets in which nothing was published
 * (too few contributors, no instance running) are absent. Oldest first.
 */
export class ReferenceHistoryDto {
  @ApiProperty({ enum: HISTORY_SERIES })
  direction!: HistorySeries;
  @ApiProperty({ enum: HISTORY_BUCKETS })
  bucket!: HistoryBucket;
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  points!: ReferenceHistoryPointDto[];
}

/** Query of GET /exchangeRate/official/history: entries whose effective_at is in [from, to]. */
export class OfficialHistoryQueryDto extends IntersectionType(DateRangeQueryDto, PageQueryDto) {}
