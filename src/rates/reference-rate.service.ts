import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { EventBus } from '../common/events/event-bus';
import { MaintenanceState } from '../common/maintenance';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { dialectOf } from '../database/dialect';
import { METRICS } from '../metrics/metrics';
import { ReadReplica } from '../database/read-replica';
import { TransactionRunner } from '../database/transaction-runner';
import { type Centre, ContributorSet } from './contributors';
import { type ContributorLoader, LiveContributors, RECENT_MS } from './live-contributors';
import { bumpReferenceEpoch, readReferenceEpoch } from './reference-epoch';
import type { Baseline } from './outlier-detector';
import { type Direction, DIRECTIONS, type RateSampleEntity } from './rate-sample.entity';
import { RatesRepository } from './rates.repository';

const HOUR_MS = 3_600_000;

/** One direction's reference rate as published (GET /exchangeRate, alerts, watchlist, quotes). */
export interface ReferenceRate {
  /** Median over contributors (6 decimals), or null with fewer than RATE_MIN_CONTRIBUTORS. */
  rate: number | null;
  contributors: number;
  samples: number;
  /** The newest sample behind it, or null. */
  updatedAt: Date | null;
}

export type ReferenceRates = Record<Direction, ReferenceRate>;

/** The mid-market rate: between the two directions' references (either alone when only one is published). */
export interface MidRate {
  rate: number;
  /** The newest sample behind it. */
  updatedAt: Date;
}

export function midOf(r: ReferenceRates): MidRate | null {
  const published = DIRECTIONS.map((d) => r[d]).filter(
    (x): x is ReferenceRate & { rate: number; updatedAt: Date } => x.rate !== null && x.updatedAt !== null,
  );
  if (published.length === 0) return null;
  const rate = round6(published.reduce((a, x) => a + x.rate, 0) / published.length);
  const updatedAt = new Date(Math.max(...published.map((x) => x.updatedAt.getTime())));
  return { rate, updatedAt };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * The reference rate that one account cannot move, and the outlier baseline, both from the accepted
 * samples of a trailing window counted by contributor (contributors.ts):
 * - the reference of a direction is the median over contributors of MARKET_RATE_WINDOW_HOURS, each
 *   account counting once (so with 5 honest contributors, one more account at any rate moves it by
 *   at most half the gap between two honest values), published only with RATE_MIN_CONTRIBUTORS;
 * - the baseline a new sample is judged against is the median and MAD over the contributors of
 *   OUTLIER_WINDOW_HOURS other than the submitting account.
 * Both read a live per-direction set (LiveContributors): reloaded from the database at most every
 * MARKET_RATE_CACHE_MS (the baseline's window: OUTLIER_BASELINE_CACHE_SECONDS), and between loads
 * brought up to date by this instance's own commits without a query, so a writer sees its own sample
 * at once and no request recomputes a window aggregate.
 *
 * Never await the live figures inside a transaction: a load needs a connection of its own (MySQL),
 * and requests holding every pooled connection while they wait for it would wait forever. Writers
 * read them first (RatesService.liveBaseline) and judge inside with what they read.
 */
@Injectable()
export class ReferenceRateService {
  private readonly sets = new Map<string, LiveContributors>();
  private publishedSets?: readonly [LiveContributors, LiveContributors];
  private readonly changeListeners: (() => void)[] = [];
  /** Until then the live sets load from the primary (see invalidate()). */
  private primaryUntil = 0;

  constructor(
    private readonly repo: RatesRepository,
    private readonly tx: TransactionRunner,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    maintenance: MaintenanceState,
    private readonly reads: ReadReplica,
    private readonly events: EventBus,
  ) {
    maintenance.onDataReplaced(() => {
      this.primaryUntil = Date.now() + this.config.db.replicaStickyMs;
      for (const set of this.sets.values()) set.reset();
      this.changed();
    });
    events.subscribe((e) => {
      if (e.type === 'contributors') this.invalidate();
    });
  }

  private get marketWindowHours(): number {
    return this.config.rates.marketWindowHours;
  }

  private get outlierWindowHours(): number {
    return this.config.rates.outlierWindowHours;
  }

  /** The live set of a direction over a window (one per window length; shared when they are equal). */
  private live(direction: Direction, windowHours: number): LiveContributors {
    const key = `${direction}:${windowHours}`;
    let set = this.sets.get(key);
    if (!set) {
      const r = this.config.rates;
      const refreshes: number[] = [];
      if (windowHours === r.marketWindowHours) refreshes.push(r.marketRateCacheMs);
      if (windowHours === r.outlierWindowHours) refreshes.push(r.baselineCacheSeconds * 1000);
      const min = r.minSampleUsd;
      const loader: ContributorLoader = {
        full: (q) => {
          METRICS.referenceLoads.inc({ kind: 'full' });
          return this.snapshotRead(async (m) => {
            const rows = await this.repo.contributorRows(direction, q.since, q.until, min, m);
            const recent = await this.repo.recentSamples(direction, q.recentFrom, q.until, min, m);
            const epoch = await readReferenceEpoch(m ?? this.dataSource.manager);
            const visible = await this.repo.visibleSampleIds(q.ids(), m);
            const excluded = await this.repo.excludedUsers(q.users(), m);
            return { rows, visible, recent, epoch, excluded };
          });
        },
        step: (q) => {
          METRICS.referenceLoads.inc({ kind: 'step' });
          return this.snapshotRead(async (m) => {
            const epoch = await readReferenceEpoch(m ?? this.dataSource.manager);
            const departed =
              q.departTo > q.departFrom
                ? await this.repo.contributorRows(direction, q.departFrom, q.departTo, min, m, true)
                : [];
            const check = await this.repo.sampleCheck(direction, q.checkFrom, q.checkTo, min, m);
            const added = await this.repo.recentSamples(direction, q.newFrom, q.newTo, min, m);
            return { epoch, departed, check, added };
          });
        },
        samples: (from, to) => {
          METRICS.referenceLoads.inc({ kind: 'late' });
          return this.snapshotRead((m) => this.repo.recentSamples(direction, from, to, min, m));
        },
      };
      set = new LiveContributors(loader, windowHours * HOUR_MS, Math.min(...refreshes), () =>
        this.clock.now().getTime(),
      );
      this.sets.set(key, set);
    }
    return set;
  }

  /**
   * `fn` in one read snapshot. MySQL: a read transaction of its own, on a replica when one is usable
   * (a replica behind the primary is fine: what it does not hold yet is found by a later read, or
   * added from this instance's log); right after this instance changed the samples under the window
   * (an outlier mark, an account's standing), on the primary for a while, as a replica may not have
   * that change yet. SQLite: one connection serves everything (a transaction would queue behind the
   * writers), and its reads see what is committed when they run.
   */
  private async snapshotRead<T>(fn: (m?: EntityManager) => Promise<T>): Promise<T> {
    if (dialectOf(this.dataSource) !== 'mysql') return fn();
    const onReplica = Date.now() < this.primaryUntil ? null : await this.reads.snapshot((m) => fn(m));
    return onReplica ?? this.tx.run((m) => fn(m));
  }

  /** Full loads, incremental steps and late re-reads of the live sets since start (tests, the bench). */
  loadCounts(): { full: number; step: number; late: number } {
    const out = { full: 0, step: 0, late: 0 };
    for (const set of this.sets.values()) {
      out.full += set.loads.full;
      out.step += set.loads.step;
      out.late += set.loads.late;
    }
    return out;
  }

  private liveSets(direction: Direction): LiveContributors[] {
    const windows = new Set([this.marketWindowHours, this.outlierWindowHours]);
    return [...windows].map((w) => this.live(direction, w));
  }

  /**
   * Whether a sample counts for the reference and the baseline: accepted, made by an established
   * account (or an admin's or a feed's), and not an account's dust.
   */
  counts(sample: Pick<RateSampleEntity, 'isOutlier' | 'counted' | 'userId' | 'usdVolume'>): boolean {
    return (
      !sample.isOutlier &&
      sample.counted &&
      (sample.userId === null || sample.usdVolume >= this.config.rates.minSampleUsd)
    );
  }

  /** Transactions that already moved the epoch (once each is enough). */
  private readonly epochMoved = new WeakSet<EntityManager>();

  /**
   * Samples already under the window change in `m`'s transaction other than by being added now (an
   * outlier mark, an account's standing: trusted, distrusted, suspended, banned, reactivated; samples
   * stamped in the past): the reference epoch moves in it, so every instance's next incremental
   * reload loads in full, with or without Redis; after the commit this instance reloads at once, and
   * so does every other one that hears it (EventBus).
   */
  async samplesChanged(m: EntityManager): Promise<void> {
    if (this.epochMoved.has(m)) return;
    this.epochMoved.add(m);
    await bumpReferenceEpoch(m, this.clock.now());
    this.tx.afterCommit(m, () => {
      this.invalidate();
      this.events.publish({ type: 'contributors' });
    });
  }

  /**
   * An accepted sample written in `m`'s transaction: it counts in the live sets from its commit (never
   * if the transaction rolls back).
   */
  async noteSample(sample: RateSampleEntity, m: EntityManager): Promise<void> {
    if (!this.counts(sample)) return;
    const entry = {
      id: sample.id,
      userId: sample.userId,
      rate: sample.rate,
      volume: Number(sample.usdVolume),
      createdAt: sample.createdAt,
    };
    const sets = this.liveSets(sample.direction);
    for (const set of sets) set.pending(entry);
    // stamped in the past (an import): other instances' incremental reads, which read forward in
    // time, would not see it; the epoch sends them to a full load
    if (sample.createdAt.getTime() < this.clock.now().getTime() - RECENT_MS / 2) await this.samplesChanged(m);
    this.tx.afterCommit(m, () => {
      for (const set of sets) set.committed(sample.id);
      this.changed();
    });
  }

  /** The samples under the window changed otherwise (an outlier mark, a restore): reload on next read. */
  invalidate(): void {
    this.primaryUntil = Date.now() + this.config.db.replicaStickyMs;
    for (const set of this.sets.values()) set.invalidate();
    this.changed();
  }

  /**
   * Calls `listener` whenever this instance changed the inputs of the published rate (a committed
   * sample, an invalidation); the rate itself may or may not have moved. Synchronous: defer any work.
   */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  private publish(set: ContributorSet): ReferenceRate {
    const c: Centre = set.centre();
    const enough = c.contributors >= this.config.rates.minContributors;
    return {
      rate: enough && c.median !== null ? round6(c.median) : null,
      contributors: c.contributors,
      samples: c.samples,
      updatedAt: set.newestAt,
    };
  }

  /** Both directions' reference rates now. */
  async published(): Promise<ReferenceRates> {
    const [sell, buy] = await Promise.all(DIRECTIONS.map((d) => this.live(d, this.marketWindowHours).get()));
    return { usd_to_lbp: this.publish(sell), lbp_to_usd: this.publish(buy) };
  }

  /** The mid-market rate now (quotes and valuations), or null without a published reference. */
  async mid(): Promise<MidRate | null> {
    return midOf(await this.published());
  }

  /**
   * The published rate's live sets' versions now, [usd_to_lbp, lbp_to_usd]: each grows with every
   * change of its inputs (a sample, an invalidation), for memoizing the GET /exchangeRate body.
   */
  marketVersions(): [number, number] {
    const [sell, buy] = this.marketSets();
    return [sell.version, buy.version];
  }

  /**
   * Both live sets of the published rate can answer without waiting (fresh, or in their grace period
   * while a background reload runs: LiveContributors.peek) and are still at versions `sell` and
   * `buy`: the check the cached GET /exchangeRate makes on every request. Never waits for a query.
   */
  isFreshAt(sell: number, buy: number): boolean {
    const [s, b] = this.marketSets();
    return !!s.peek() && !!b.peek() && s.version === sell && b.version === buy;
  }

  /** The published rate's two live sets, looked up once (a set lives as long as the service). */
  private marketSets(): readonly [LiveContributors, LiveContributors] {
    return (this.publishedSets ??= [
      this.live('usd_to_lbp', this.marketWindowHours),
      this.live('lbp_to_usd', this.marketWindowHours),
    ]);
  }

  /** Both directions' reference rates while both live sets can answer without waiting, else null (never waits). */
  peekPublished(): ReferenceRates | null {
    const [sell, buy] = DIRECTIONS.map((d) => this.live(d, this.marketWindowHours).peek());
    if (!sell || !buy) return null;
    return { usd_to_lbp: this.publish(sell), lbp_to_usd: this.publish(buy) };
  }

  /** A direction's reference over the window ending at `at` (a past moment: read from the database). */
  async referenceAt(direction: Direction, at: Date): Promise<ReferenceRate> {
    const since = new Date(at.getTime() - this.marketWindowHours * HOUR_MS);
    const rows = await this.repo.contributorRows(direction, since, at, this.config.rates.minSampleUsd);
    return this.publish(ContributorSet.of(rows));
  }

  /**
   * The baseline a sample of `excludeUserId` (null: an admin's or a feed's) is judged against.
   * Live (the live set) unless `at` is a past moment or `m` must see its own transaction's samples
   * (an import judging each row against those before it): then read in `m`.
   */
  async baseline(
    direction: Direction,
    excludeUserId: number | null,
    opts: { at?: Date; m?: EntityManager } = {},
  ): Promise<Baseline> {
    const windowHours = this.outlierWindowHours;
    let set: ContributorSet;
    if (opts.at === undefined && opts.m === undefined) {
      set = await this.live(direction, windowHours).get();
    } else {
      const at = opts.at ?? this.clock.now();
      const since = new Date(at.getTime() - windowHours * HOUR_MS);
      set = ContributorSet.of(
        await this.repo.contributorRows(direction, since, at, this.config.rates.minSampleUsd, opts.m),
      );
    }
    const c = set.centre(excludeUserId);
    return { count: c.samples, contributors: c.contributors, median: c.median, mad: c.mad, windowHours };
  }
}
