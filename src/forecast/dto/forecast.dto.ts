import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { DIRECTIONS, type Direction } from '../../rates/rate-sample.entity';

export const FORECAST_BUCKETS = ['hour', 'day'] as const;
export type ForecastBucket = (typeof FORECAST_BUCKETS)[number];

export class ForecastQueryDto {
  @ApiProperty({ enum: DIRECTIONS })
  @IsIn(DIRECTIONS)
  direction!: Direction;

  /** Bucket size of the history and of the forecast; default hour. */
  @ApiProperty({ enum: FORECAST_BUCKETS, required: false, default: 'hour' })
  @IsOptional()
  @IsIn(FORECAST_BUCKETS)
  bucket?: ForecastBucket;

  /** Buckets ahead, 1-168; default 24. */
  @ApiProperty({ required: false, default: 24, minimum: 1, maximum: 168 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(168)
  horizon?: number;
}

export class ForecastPointDto {
  /** Start of the forecast bucket (UTC). */
  @ApiProperty({ format: 'date-time' })
  t!: string;
  /** The forecast (the median of the predictive distribution), LBP per USD. */
  mid!: number;
  /** 80% prediction interval. */
  low_80!: number;
  high_80!: number;
  /** 95% prediction interval. */
  low_95!: number;
  high_95!: number;
}

export class BacktestHorizonDto {
  /** Buckets ahead. */
  h!: number;
  @ApiProperty({ type: Number, nullable: true })
  mape_percent!: number | null;
  @ApiProperty({ type: Number, nullable: true })
  naive_mape_percent!: number | null;
}

export class BacktestDto {
  /** Mean absolute percentage error of the model over every window and step ahead (1..horizon). */
  @ApiProperty({ type: Number, nullable: true })
  mape_percent!: number | null;
  /** The same for the naive forecast ("the next buckets = the last one"), on the same windows. */
  @ApiProperty({ type: Number, nullable: true })
  naive_mape_percent!: number | null;
  /** Share of the actual values that fell inside the model's 80% interval. */
  @ApiProperty({ type: Number, nullable: true })
  coverage_80_percent!: number | null;
  /** Forecast origins (windows) of the rolling-origin backtest. */
  windows!: number;
  /** The first step, the 7th (when within the horizon) and the last. */
  horizons!: BacktestHorizonDto[];
}

export class ForecastHistoryDto {
  /** First and last bucket of the history the model read. */
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  /** Buckets from `from` to `to`, and how many of them had samples (the rest are gaps). */
  buckets!: number;
  observed!: number;
}

/**
 * A forecast of the reference from the history of the samples behind it (established contributors'
 * and the feeds', per bucket their volume-weighted mean), with prediction intervals, and how good the
 * same model was on the past next to the naive forecast.
 */
export class ForecastDto {
  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;
  @ApiProperty({ enum: FORECAST_BUCKETS })
  bucket!: ForecastBucket;
  /** The model and its fitted parameters. */
  model!: string;
  @ApiProperty({ format: 'date-time' })
  generated_at!: string;
  horizon!: number;
  history!: ForecastHistoryDto;
  points!: ForecastPointDto[];
  backtest!: BacktestDto;
}
