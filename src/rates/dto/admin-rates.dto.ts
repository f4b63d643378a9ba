import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNumber, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { DateRangeQueryDto } from '../../common/date-range.dto';
import { IsTimestamp, TIMESTAMP, TIMESTAMP_FORMS } from '../../common/dates';
import { MAX_AMOUNT_MAJOR } from '../../common/money';
import { IsTwoDecimalNumber, IsPositiveNumber } from '../../common/money-validators';
import { PageQueryDto } from '../../common/pagination';
import { DIRECTIONS, type Direction, SAMPLE_SOURCES, type SampleSource } from '../rate-sample.entity';

export const MAX_RATE = 1e9;
/** Below this a rate is a typo (or an underflow), not a market. */
export const MIN_RATE = 0.0001;
export const MAX_IMPORT_ROWS = 10_000;

/** One rate sample as an admin enters it (POST /admin/rates) and as each import row is checked. */
export class CreateRateSampleDto {
  @ApiProperty({ enum: DIRECTIONS })
  @IsIn(DIRECTIONS)
  direction!: Direction;

  /** LBP per 1 USD: at least 0.0001, finite, at most 1e9. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(MIN_RATE)
  @Max(MAX_RATE)
  rate!: number;

  /** USD volume behind the sample (its weight in market figures): > 0, at most 2 decimals, at most 1e12. Default 1. */
  @IsOptional()
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  usd_volume?: number;

  @ApiProperty({
    required: false,
    description: `When the rate was observed, not in the future; default now. ${TIMESTAMP_FORMS}.`,
    example: '2026-12-02T21:46:00Z',
    pattern: TIMESTAMP.source,
  })
  @IsOptional()
  @IsTimestamp()
  created_at?: string;
}

/** Admin override of a sample's outlier mark. */
export class OverrideSampleDto {
  /** true: leave the sample out of market figures; false: count it. */
  @IsBoolean()
  is_outlier!: boolean;

  /** Why (stored as the sample's `anomaly_reason` and in the audit trail). */
  @IsString()
  @Length(1, 300)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}

/** Filters of the data-quality report; omitted bounds = unbounded. */
export class DataQualityFilterDto extends DateRangeQueryDto {
  @ApiProperty({ enum: DIRECTIONS, required: false })
  @IsOptional()
  @IsIn(DIRECTIONS)
  direction?: Direction;

  @ApiProperty({ enum: SAMPLE_SOURCES, required: false })
  @IsOptional()
  @IsIn(SAMPLE_SOURCES)
  source?: SampleSource;
}

/** Filters plus `limit`/`offset`, which page the anomaly list only. */
export class DataQualityQueryDto extends IntersectionType(DataQualityFilterDto, PageQueryDto) {}

/** A rate sample as the contract shows it. */
export class RateSampleDto {
  id!: number;
  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;
  /** LBP per USD (at most 6 decimals shown). */
  rate!: number;
  @ApiProperty({ enum: SAMPLE_SOURCES })
  source!: SampleSource;
  /** The user behind a transaction or trade sample; null for manual and imported samples. */
  user_id!: number | null;
  transaction_id!: number | null;
  trade_id!: number | null;
  /** USD volume in major units. */
  usd_volume!: number;
  /** Left out of every market figure when true. */
  is_outlier!: boolean;
  anomaly_reason!: string | null;
  /** Robust z-score against the baseline when it was judged (null without a baseline). */
  anomaly_score!: number | null;
  /** Median of the trailing window the sample was judged against (null without one). */
  baseline_rate!: number | null;
  /** Distance from that median, percent. */
  deviation_percent!: number | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class ImportFieldErrorDto {
  field!: string;
  message!: string;
}

export class ImportRejectedRowDto {
  /** 1-based position of the row in the request (for CSV the header line is not counted). */
  row!: number;
  errors!: ImportFieldErrorDto[];
}

export class ImportResultDto {
  /** Rows stored (outliers included). */
  imported!: number;
  /** Stored rows that the outlier guard marked `is_outlier`. */
  flagged!: number;
  rejected!: ImportRejectedRowDto[];
  /** Ids of the stored samples, in the order of their rows in the request. */
  samples!: number[];
}

export class CountsByDirectionDto {
  usd_to_lbp!: number;
  lbp_to_usd!: number;
}

export class AnomalyDto {
  sample_id!: number;
  transaction_id!: number | null;
  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;
  rate!: number;
  deviation_percent!: number | null;
  /** The baseline (median of the trailing window) the sample was judged against. */
  baseline_avg_rate!: number | null;
  @ApiProperty({ enum: SAMPLE_SOURCES })
  source!: SampleSource;
  anomaly_reason!: string | null;
  anomaly_score!: number | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class DataQualityDto {
  /** The source filter, or "all". */
  source!: string;
  /** The direction filter, or "all". */
  direction!: string;
  @ApiProperty({ format: 'date-time', nullable: true })
  from!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true })
  to!: string | null;
  /** Samples in the range (all sources unless filtered). */
  total_transactions!: number;
  /** Of those, marked as outliers. */
  flagged_count!: number;
  /** OUTLIER_PERCENT: the deviation from the baseline beyond which a sample may be flagged. */
  anomaly_threshold_percent!: number;
  counts_by_direction!: CountsByDirectionDto;
  /** Flagged samples, newest first, paged by `limit`/`offset` (their total is `flagged_count`). */
  anomalies!: AnomalyDto[];
}

/** PUT /admin/rates/official: a new entry of the official series. */
export class SetOfficialRateDto {
  /** LBP per 1 USD (selling USD), as the source publishes it. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(MIN_RATE)
  @Max(MAX_RATE)
  usd_to_lbp!: number;

  /** LBP per 1 USD (buying USD); default: usd_to_lbp (one official rate). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(MIN_RATE)
  @Max(MAX_RATE)
  lbp_to_usd?: number;

  /** Who publishes it, e.g. "Banque du Liban" (1-100 characters). */
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'source must not be blank' })
  source!: string;

  @ApiProperty({
    required: false,
    description: `From when it is in force: default now; a past time records an earlier value of the series, a future one schedules it (at most a year ahead). ${TIMESTAMP_FORMS}.`,
    example: '2026-12-07T00:00:00Z',
    pattern: TIMESTAMP.source,
  })
  @IsOptional()
  @IsTimestamp()
  effective_at?: string;
}
