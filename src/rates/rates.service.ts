import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { FreshCache } from '../common/fresh-cache';
import { MaintenanceState } from '../common/maintenance';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { hourStart } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { type Baseline, judgeRate, type Verdict } from './outlier-detector';
import { type Direction, DIRECTIONS, type RateSampleEntity, type SampleSource } from './rate-sample.entity';
import { RateOutlierError } from './rates.errors';
import { RatesRepository } from './rates.repository';

export interface NewSample {
  direction: Direction;
  rate: number;
  source: SampleSource;
  usdVolume: bigint;
  userId?: number | null;
  transactionId?: number | null;
  tradeId?: number | null;
  /** Defaults to now (imports may carry their own time). */
  createdAt?: Date;
}

/** Rate samples, the outlier guard and the hourly rollup that market figures read. */
@Injectable()
export class RatesService {
  /** The live baseline per direction, reused for OUTLIER_BASELINE_CACHE_SECONDS and computed once at a time. */
  private readonly baselineCache: Record<Direction, FreshCache<Baseline>>;
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    private readonly repo: RatesRepository,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    maintenance: MaintenanceState,
  ) {
    const ttl = config.rates.baselineCacheSeconds * 1000;
    const cache = () => new FreshCache<Baseline>(ttl, () => clock.now().getTime());
    this.baselineCache = { usd_to_lbp: cache(), lbp_to_usd: cache() };
    maintenance.onDataReplaced(() => this.forgetBaselines());
  }

  /**
   * The trailing-window baseline of a direction at `at`: the accepted samples of the window before it.
   * The live baseline (at = now) may be reused for OUTLIER_BASELINE_CACHE_SECONDS, and concurrent
   * requests share one computation of it; a past `at` (imports with their own times) is always computed.
   */
  async baseline(direction: Direction, at: Date = this.clock.now(), m?: EntityManager): Promise<Baseline> {
    const ttl = this.config.rates.baselineCacheSeconds * 1000;
    const live = ttl > 0 && Math.abs(this.clock.now().getTime() - at.getTime()) < ttl;
    const compute = async (): Promise<Baseline> => {
      const windowHours = this.config.rates.outlierWindowHours;
      const since = new Date(at.getTime() - windowHours * 3600_000);
      return { ...(await this.repo.baseline(direction, since, at, m)), windowHours };
    };
    return live ? this.baselineCache[direction].get(compute) : compute();
  }

  /**
   * Registers what must follow the market figures (the market-rate cache): called after every commit
   * that added an accepted sample or changed an outlier mark.
   */
  onMarketChanged(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private marketChanged(m: EntityManager): void {
    this.tx.afterCommit(m, () => {
      for (const listener of this.changeListeners) listener();
    });
  }

  private forgetBaselines(): void {
    for (const d of DIRECTIONS) this.baselineCache[d].invalidate();
  }

  /** Judges a rate against the market of its direction. */
  async judge(direction: Direction, rate: number, at?: Date, m?: EntityManager): Promise<Verdict> {
    const r = this.config.rates;
    const baseline = await this.baseline(direction, at, m);
    return judgeRate(rate, baseline, {
      percent: r.outlierPercent,
      madThreshold: r.outlierMadThreshold,
      minSamples: r.outlierMinSamples,
    });
  }

  /**
   * Judges the rate of a transaction or an offer, which must not be an outlier: the verdict, or
   * 422 RATE_OUTLIER with the baseline.
   */
  async judgeAccepted(direction: Direction, rate: number, at?: Date, m?: EntityManager): Promise<Verdict> {
    const verdict = await this.judge(direction, rate, at, m);
    if (verdict.isOutlier) throw new RateOutlierError(rate, verdict, this.config.rates.outlierPercent);
    return verdict;
  }

  /**
   * Stores a sample inside the caller's transaction with its verdict (judged here unless given) and,
   * when it is accepted, adds it to the hourly rollup in the same transaction.
   */
  async record(input: NewSample, m: EntityManager, verdict?: Verdict): Promise<RateSampleEntity> {
    const createdAt = input.createdAt ?? this.clock.now();
    const v = verdict ?? (await this.judge(input.direction, input.rate, createdAt, m));
    const sample = await this.repo.insertSample(
      {
        direction: input.direction,
        rate: input.rate,
        source: input.source,
        userId: input.userId ?? null,
        transactionId: input.transactionId ?? null,
        tradeId: input.tradeId ?? null,
        usdVolume: input.usdVolume,
        isOutlier: v.isOutlier,
        anomalyReason: v.reason,
        anomalyScore: v.score,
        baselineRate: v.baseline.median,
        deviationPercent: v.deviationPercent,
        createdAt,
      },
      m,
    );
    if (!sample.isOutlier) {
      await this.repo.addToHourly(sample, m);
      this.marketChanged(m);
    }
    return sample;
  }

  /**
   * Rebuilds the hourly rollup of [from, to) from the raw samples, hour by hour (after bulk loads that
   * bypassed record(), e.g. the benchmark's seed). Each hour is its own small transaction.
   */
  async rebuildRollup(from: Date, to: Date): Promise<number> {
    let hours = 0;
    for (let h = hourStart(from).getTime(); h < to.getTime(); h += 3600_000) {
      for (const direction of DIRECTIONS) {
        await this.tx.run((m) => this.repo.rebuildHour(direction, new Date(h), m));
      }
      hours += 1;
    }
    this.forgetBaselines();
    return hours;
  }

  findSample(id: number, m?: EntityManager): Promise<RateSampleEntity | null> {
    return this.repo.findSample(id, m);
  }

  /** Admin override of a sample's outlier mark; the sample's hour is rebuilt in the same transaction. */
  async setOutlier(
    sample: RateSampleEntity,
    isOutlier: boolean,
    reason: string | null,
    m: EntityManager,
  ): Promise<RateSampleEntity> {
    await this.repo.updateSampleMark(sample.id, { isOutlier, anomalyReason: reason }, m);
    await this.repo.rebuildHour(sample.direction, hourStart(sample.createdAt), m);
    this.tx.afterCommit(m, () => this.baselineCache[sample.direction].invalidate());
    this.marketChanged(m);
    return { ...sample, isOutlier, anomalyReason: reason };
  }
}
