import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Clock } from '../common/clock';
import { MaintenanceState } from '../common/maintenance';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { dayStart, hourStart } from '../database/dialect';
import { DIRECTIONS } from './rate-sample.entity';
import { HISTORY_BUCKETS, type HistoryBucket, type HistorySeries } from './reference-history.entity';
import { type HistoryRow, ReferenceHistoryRepository } from './reference-history.repository';
import { midOf, type ReferenceRates, ReferenceRateService } from './reference-rate.service';

const MINUTE_MS = 60_000;

export function minuteStart(d: Date): Date {
  return new Date(Math.floor(d.getTime() / MINUTE_MS) * MINUTE_MS);
}

export function bucketStart(bucket: HistoryBucket, d: Date): Date {
  if (bucket === 'minute') return minuteStart(d);
  return bucket === 'hour' ? hourStart(d) : dayStart(d);
}

/** The published values of one moment, by series (null: not published). */
export function seriesValues(
  rates: ReferenceRates,
): { series: HistorySeries; value: number; contributors: number }[] {
  const out: { series: HistorySeries; value: number; contributors: number }[] = [];
  for (const d of DIRECTIONS) {
    const r = rates[d];
    if (r.rate !== null) out.push({ series: d, value: r.rate, contributors: r.contributors });
  }
  const mid = midOf(rates);
  if (mid) {
    const contributors = DIRECTIONS.reduce(
      (a, d) => a + (rates[d].rate !== null ? rates[d].contributors : 0),
      0,
    );
    out.push({ series: 'mid', value: mid.rate, contributors });
  }
  return out;
}

function mergeInto(into: HistoryRow, row: HistoryRow): void {
  into.low = Math.min(into.low, row.low);
  into.high = Math.max(into.high, row.high);
  if (row.midAt.getTime() >= into.midAt.getTime()) {
    into.mid = row.mid;
    into.contributors = row.contributors;
    into.midAt = row.midAt;
  }
}

const keyOf = (r: Pick<HistoryRow, 'series' | 'bucket' | 'bucketStart'>): string =>
  `${r.series}|${r.bucket}|${r.bucketStart.getTime()}`;

/**
 * Keeps what this instance publishes as the reference rate in the shared per-minute (and hour, day)
 * history: every value the live reference takes here (each change of its inputs, and a look every
 * REFERENCE_HISTORY_FLUSH_MS) is merged into its buckets in memory, and the buckets that changed are
 * written in one statement per flush. A reader that needs the history complete up to now (the
 * house's guard, GET /exchangeRate/history) flushes first.
 */
@Injectable()
export class ReferenceHistoryService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReferenceHistoryService.name);
  /** Buckets changed since the last flush. */
  private pending = new Map<string, HistoryRow>();
  /**
   * What this instance last wrote per series and bucket size (the current bucket only): an
   * observation that changes nothing is not written again.
   */
  private readonly written = new Map<string, HistoryRow>();
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: ReferenceHistoryRepository,
    private readonly reference: ReferenceRateService,
    private readonly clock: Clock,
    private readonly maintenance: MaintenanceState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    reference.onChange(() => this.observeNow());
    maintenance.onDataReplaced(() => {
      this.pending.clear();
      this.written.clear();
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.rates.historyFlushMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush().catch(() => undefined);
  }

  /** Records the reference as this instance has it now, if it can say without waiting. */
  private observeNow(): void {
    const rates = this.reference.peekPublished();
    if (rates) this.observe(rates, this.clock.now());
  }

  private async tick(): Promise<void> {
    if (this.maintenance.active) return;
    try {
      this.observe(await this.reference.published(), this.clock.now());
      await this.flush();
    } catch (err) {
      // the database is away: the buckets stay pending and go with the next flush
      this.logger.debug(`reference history not written: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Merges the published values of moment `at` into their buckets (in memory until the next flush). */
  observe(rates: ReferenceRates, at: Date): void {
    for (const { series, value, contributors } of seriesValues(rates)) {
      for (const bucket of HISTORY_BUCKETS) {
        const row: HistoryRow = {
          series,
          bucket,
          bucketStart: bucketStart(bucket, at),
          mid: value,
          low: value,
          high: value,
          contributors,
          midAt: at,
        };
        const key = keyOf(row);
        const last = this.written.get(`${series}|${bucket}`);
        const seen =
          this.pending.get(key) ??
          (last?.bucketStart.getTime() === row.bucketStart.getTime() ? last : undefined);
        if (
          seen &&
          seen.mid === value &&
          seen.contributors === contributors &&
          seen.low <= value &&
          seen.high >= value
        )
          continue; // nothing new for this bucket
        const merged = seen ? { ...seen } : row;
        if (seen) mergeInto(merged, row);
        this.pending.set(key, merged);
      }
    }
  }

  /** Writes the changed buckets (one statement); flushes run one at a time. */
  flush(): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.repo.merge([...batch.values()]);
      } catch (err) {
        for (const [key, row] of batch) {
          const newer = this.pending.get(key);
          if (newer) mergeInto(newer, row);
          else this.pending.set(key, row);
        }
        throw err;
      }
      for (const row of batch.values()) {
        const at = `${row.series}|${row.bucket}`;
        const last = this.written.get(at);
        if (!last || last.bucketStart.getTime() <= row.bucketStart.getTime()) this.written.set(at, row);
      }
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /**
   * The lowest and highest published values of a series over the last `minutes` (the minute that
   * holds `now - minutes` included) together with `current` (this instance's value now, which is
   * written first), and the value in force when the window began. Null parts: nothing published.
   */
  async window(
    series: HistorySeries,
    now: Date,
    minutes: number,
    current: number | null,
  ): Promise<{ low: number | null; high: number | null }> {
    await this.flush();
    const from = minuteStart(new Date(now.getTime() - minutes * MINUTE_MS));
    const carrySince = new Date(from.getTime() - this.config.rates.marketWindowHours * 3_600_000);
    const w = await this.repo.window(series, from, now, carrySince);
    const values = [w.low, w.high, w.carried, current].filter((v): v is number => v !== null);
    if (values.length === 0) return { low: null, high: null };
    return { low: Math.min(...values), high: Math.max(...values) };
  }

  /** The stored buckets of a series in [from, to], oldest first (what is published now written first). */
  async range(series: HistorySeries, bucket: HistoryBucket, from: Date, to: Date): Promise<HistoryRow[]> {
    this.observe(await this.reference.published(), this.clock.now());
    await this.flush();
    return this.repo.range(series, bucket, bucketStart(bucket, from), to);
  }
}
