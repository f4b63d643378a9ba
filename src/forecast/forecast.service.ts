import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { dayStart, hourStart } from '../database/dialect';
import type { Direction } from '../rates/rate-sample.entity';
import { ReferenceRateService } from '../rates/reference-rate.service';
import type { ForecastBucket, ForecastDto, ForecastQueryDto } from './dto/forecast.dto';
import { ForecastRepository } from './forecast.repository';
import { backtest, describeModel, forecast } from './model';

const HOUR_MS = 3_600_000;
const BUCKET_MS: Record<ForecastBucket, number> = { hour: HOUR_MS, day: 24 * HOUR_MS };
/** History read: the buckets before the newest sample (60 days of hours, 3 years of days). */
const SPAN_BUCKETS: Record<ForecastBucket, number> = { hour: 60 * 24, day: 3 * 366 };
/** Fewer buckets with samples than this: 404 NO_DATA. */
export const MIN_BUCKETS = 48;
const BACKTEST_WINDOWS = 30;
/** A computed forecast is reused while no sample came in through this instance, at most this long. */
const MAX_AGE_MS = 10 * 60_000;
/** ...and, whatever came in, for at least this long (a busy market would otherwise recompute per request). */
const MIN_AGE_MS: Record<ForecastBucket, number> = { hour: 15_000, day: 60_000 };

export class NoForecastDataError extends NotFoundError {
  constructor(observed: number) {
    super(
      `Too little history for a forecast: ${observed} bucket(s) with samples, at least ${MIN_BUCKETS} are needed.`,
      'NO_DATA',
    );
  }
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const round4 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e4) / 1e4);

/**
 * GET /forecast/exchange-rate: the model (model.ts) on the bucketed history of the counted samples of
 * a direction, with its rolling-origin backtest next to the naive forecast's. The series ends with the
 * newest bucket that has samples, and the forecast covers the `horizon` buckets after it. Results are
 * cached per (direction, bucket, horizon) until a sample is committed through this instance (or an
 * outlier mark or an account's standing changes), kept at least MIN_AGE_MS and at most MAX_AGE_MS (other
 * instances' samples).
 */
@Injectable()
export class ForecastService {
  private readonly cache = new Map<string, { at: number; version: number; result: Promise<ForecastDto> }>();
  private version = 0;

  constructor(
    private readonly repo: ForecastRepository,
    private readonly clock: Clock,
    reference: ReferenceRateService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    reference.onChange(() => {
      this.version += 1;
    });
  }

  forecast(q: ForecastQueryDto): Promise<ForecastDto> {
    const bucket = q.bucket ?? 'hour';
    const horizon = q.horizon ?? 24;
    const key = `${q.direction}:${bucket}:${horizon}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit) {
      const age = now - hit.at;
      if (age >= 0 && (age < MIN_AGE_MS[bucket] || (hit.version === this.version && age < MAX_AGE_MS)))
        return hit.result;
    }
    const result = this.compute(q.direction, bucket, horizon);
    const entry = { at: now, version: this.version, result };
    this.cache.set(key, entry);
    // a failure is not kept
    result.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key);
    });
    return result;
  }

  private async compute(direction: Direction, bucket: ForecastBucket, horizon: number): Promise<ForecastDto> {
    const size = BUCKET_MS[bucket];
    const start = (d: Date): number => (bucket === 'hour' ? hourStart(d) : dayStart(d)).getTime();
    const newest = await this.repo.newest(direction);
    if (!newest) throw new NoForecastDataError(0);
    const last = start(newest);
    const from = new Date(last - (SPAN_BUCKETS[bucket] - 1) * size);
    const rows = await this.repo.buckets(direction, bucket, from, newest, this.config.rates.minSampleUsd);
    if (rows.length < MIN_BUCKETS) throw new NoForecastDataError(rows.length);
    const first = rows[0].t.getTime();
    const n = Math.round((last - first) / size) + 1;
    const values: (number | null)[] = new Array<number | null>(n).fill(null);
    for (const r of rows) values[Math.round((r.t.getTime() - first) / size)] = r.value;
    const f = forecast(values, horizon);
    const b = backtest(values, horizon, BACKTEST_WINDOWS);
    const steps = [...new Set([1, Math.min(7, horizon), horizon])];
    return {
      direction,
      bucket,
      model: describeModel(f),
      generated_at: this.clock.now().toISOString(),
      horizon,
      history: {
        from: new Date(first).toISOString(),
        to: new Date(last).toISOString(),
        buckets: n,
        observed: rows.length,
      },
      points: f.points.map((p, i) => ({
        t: new Date(last + (i + 1) * size).toISOString(),
        mid: round6(p.mid),
        low_80: round6(p.low80),
        high_80: round6(p.high80),
        low_95: round6(p.low95),
        high_95: round6(p.high95),
      })),
      backtest: {
        mape_percent: round4(b.mapePercent),
        naive_mape_percent: round4(b.naiveMapePercent),
        coverage_80_percent: round4(b.coverage80Percent),
        windows: b.windows,
        horizons: steps.map((h) => ({
          h,
          mape_percent: round4(b.byHorizon[h - 1].mape),
          naive_mape_percent: round4(b.byHorizon[h - 1].naiveMape),
        })),
      },
    };
  }
}
