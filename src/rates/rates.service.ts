import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { hourStart } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { type Baseline, judgeRate, type OutlierPolicy, type Verdict } from './outlier-detector';
import { type Direction, DIRECTIONS, type RateSampleEntity, type SampleSource } from './rate-sample.entity';
import { RateOutlierError } from './rates.errors';
import { RatesRepository } from './rates.repository';
import { ReferenceRateService } from './reference-rate.service';
import { METRICS } from '../metrics/metrics';

export interface NewSample {
  direction: Direction;
  rate: number;
  source: SampleSource;
  usdVolume: bigint;
  userId?: number | null;
  transactionId?: number | null;
  tradeId?: number | null;
  /**
   * Whether it may count toward the reference: made by an established account (default true, for
   * admins' and feeds' samples, which have none).
   */
  counted?: boolean;
  /** Defaults to now (imports may carry their own time). */
  createdAt?: Date;
}

/** Rate samples, the outlier guard and the hourly rollup that market figures read. */
@Injectable()
export class RatesService {
  constructor(
    private readonly repo: RatesRepository,
    private readonly reference: ReferenceRateService,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get policy(): OutlierPolicy {
    const r = this.config.rates;
    return {
      percent: r.outlierPercent,
      madThreshold: r.outlierMadThreshold,
      zMinPercent: r.outlierZMinPercent,
      minSamples: r.outlierMinSamples,
      minContributors: r.minContributors,
    };
  }

  /**
   * The live baseline a sample of `userId` is judged against (the other contributors'). Read it
   * before opening the transaction that stores the sample (see ReferenceRateService), then judge
   * inside with `accept` or `judgeWith`.
   */
  liveBaseline(direction: Direction, userId: number): Promise<Baseline> {
    return this.reference.baseline(direction, userId);
  }

  /** The verdict on a rate against a baseline. */
  judgeWith(baseline: Baseline, rate: number): Verdict {
    return judgeRate(rate, baseline, this.policy);
  }

  /**
   * The verdict on the rate of a user's transaction record or offer, which must not be an outlier:
   * 422 RATE_OUTLIER with the baseline otherwise.
   */
  accept(baseline: Baseline, rate: number): Verdict {
    const verdict = this.judgeWith(baseline, rate);
    if (verdict.isOutlier) {
      METRICS.outliers.inc({ outcome: 'refused' });
      throw new RateOutlierError(rate, verdict, this.config.rates.outlierPercent);
    }
    return verdict;
  }

  /**
   * Stores a sample inside the caller's transaction with its verdict (judged here unless given) and,
   * when it is accepted, adds it to the hourly rollup in the same transaction.
   */
  async record(input: NewSample, m: EntityManager, verdict?: Verdict): Promise<RateSampleEntity> {
    const createdAt = input.createdAt ?? this.clock.now();
    // without a verdict (admins' and feeds' samples): judged at their own time in `m`, so each row of
    // an import is judged against those before it
    const v =
      verdict ??
      this.judgeWith(
        await this.reference.baseline(input.direction, input.userId ?? null, { at: createdAt, m }),
        input.rate,
      );
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
        counted: input.counted ?? true,
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
      await this.reference.noteSample(sample, m);
    } else {
      this.tx.afterCommit(m, () => METRICS.outliers.inc({ outcome: 'stored' }));
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
    await this.tx.run((m) => this.reference.samplesChanged(m));
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
    await this.reference.samplesChanged(m);
    return { ...sample, isOutlier, anomalyReason: reason };
  }
}
