import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { parseRange } from '../common/dates';
import { NotFoundError, ValidationFailedError } from '../common/errors/app-error';
import { toMajor } from '../common/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { hourStart } from '../database/dialect';
import { ReadReplica } from '../database/read-replica';
import type { Page } from '../common/pagination';
import type { Bucket, UserPreferencesEntity } from '../users/user-preferences.entity';
import { UsersService } from '../users/users.service';
import type {
  AnalyticsDto,
  AnalyticsQueryDto,
  ExchangeRateDto,
  HistoryDto,
  HistoryPointDto,
  HistoryQueryDto,
  GapPercentDto,
  OfficialRateEntryDto,
  OfficialRateNowDto,
  ReferenceHistoryDto,
  ReferenceHistoryQueryDto,
  Scope,
} from './dto/market.dto';
import type { HistoryBucket } from './reference-history.entity';
import { ReferenceHistoryService } from './reference-history.service';
import type { OfficialRateEntity } from './official-rate.entity';
import { OfficialRateService } from './official-rate.service';
import { toOfficialEntry } from './official-rate.mapper';
import { MarketRepository, type RatePartial, type Span } from './market.repository';
import { type ReferenceRates, ReferenceRateService } from './reference-rate.service';
import type { Direction } from './rate-sample.entity';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const MAX_RANGE_DAYS = 366;

/** GET /exchangeRate/history: the default span of each bucket size, and the longest allowed. */
const DEFAULT_SPAN_MS: Record<HistoryBucket, number> = {
  minute: DAY_MS,
  hour: 30 * DAY_MS,
  day: 365 * DAY_MS,
};
const MAX_SPAN_MS: Record<HistoryBucket, number> = {
  minute: 7 * DAY_MS,
  hour: 366 * DAY_MS,
  day: 3660 * DAY_MS,
};

/** (reference - official) / official x 100 per direction, 4 decimals; null without either. */
export function gapOf(r: ReferenceRates, o: OfficialRateEntity | null): GapPercentDto {
  const gap = (ref: number | null, off: number | undefined): number | null =>
    ref === null || off === undefined || off <= 0 ? null : Math.round(((ref - off) / off) * 100 * 1e4) / 1e4;
  return { usd_to_lbp: gap(r.usd_to_lbp.rate, o?.usdToLbp), lbp_to_usd: gap(r.lbp_to_usd.rate, o?.lbpToUsd) };
}

function pickBucket(spanMs: number): HistoryBucket {
  if (spanMs <= 2 * DAY_MS) return 'minute';
  return spanMs <= 90 * DAY_MS ? 'hour' : 'day';
}

export class NoRateDataError extends NotFoundError {
  constructor() {
    super('There are no rate samples in this range.', 'NO_DATA');
  }
}

/** An inclusive [from, to] range as asked, with its half-open span for queries. */
interface Range {
  from: Date;
  to: Date;
  span: Span;
}

/** Which source covers which part of a span: the rollup for whole hours, raw samples for the edges. */
export interface SpanPlan {
  source: 'raw' | 'rollup';
  span: Span;
}

/**
 * Whole hours inside [start, end) come from the hourly rollup; the partial hours at either edge
 * come from the raw samples. Pieces are disjoint and in time order.
 */
export function planSpan(span: Span): SpanPlan[] {
  const { start, end } = span;
  const floor = hourStart(start);
  const firstWhole = floor.getTime() === start.getTime() ? floor : new Date(floor.getTime() + HOUR_MS);
  const wholeEnd = hourStart(end);
  if (firstWhole.getTime() >= wholeEnd.getTime()) return [{ source: 'raw', span }];
  const plan: SpanPlan[] = [];
  if (start < firstWhole) plan.push({ source: 'raw', span: { start, end: firstWhole } });
  plan.push({ source: 'rollup', span: { start: firstWhole, end: wholeEnd } });
  if (wholeEnd < end) plan.push({ source: 'raw', span: { start: wholeEnd, end } });
  return plan;
}

function before(aAt: Date, aId: number, bAt: Date, bId: number): boolean {
  return aAt.getTime() < bAt.getTime() || (aAt.getTime() === bAt.getTime() && aId < bId);
}

/** Merges two aggregates of the same bucket (open/close by sample time, then id). */
export function mergeTwo(a: RatePartial, b: RatePartial): RatePartial {
  const openFromA = before(a.openAt, a.openId, b.openAt, b.openId);
  const closeFromA = before(b.closeAt, b.closeId, a.closeAt, a.closeId);
  const o = openFromA ? a : b;
  const c = closeFromA ? a : b;
  return {
    bucket: a.bucket,
    count: a.count + b.count,
    volume: a.volume + b.volume,
    rateVolume: a.rateVolume + b.rateVolume,
    rateSum: a.rateSum + b.rateSum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    open: o.open,
    openAt: o.openAt,
    openId: o.openId,
    close: c.close,
    closeAt: c.closeAt,
    closeId: c.closeId,
  };
}

/** Merges partial aggregates by bucket (null = one total), oldest bucket first. */
export function mergeByBucket(parts: RatePartial[]): RatePartial[] {
  const byKey = new Map<number, RatePartial>();
  for (const p of parts) {
    const key = p.bucket ? p.bucket.getTime() : 0;
    const seen = byKey.get(key);
    byKey.set(key, seen ? mergeTwo(seen, p) : p);
  }
  return [...byKey.entries()].sort((x, y) => x[0] - y[0]).map(([, p]) => p);
}

/** Rates are shown with at most 6 decimals. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Volume-weighted average; with no volume at all (e.g. zero-volume manual samples), the plain mean. */
export function vwapOf(p: RatePartial): number {
  return p.volume > 0n ? p.rateVolume / Number(p.volume) : p.rateSum / p.count;
}

function toPoint(p: RatePartial): HistoryPointDto {
  return {
    t: (p.bucket ?? new Date(0)).toISOString(),
    rate: round6(vwapOf(p)),
    count: p.count,
    open: round6(p.open),
    high: round6(p.max),
    low: round6(p.min),
    close: round6(p.close),
    volume_usd: toMajor(p.volume),
  };
}

/** The market rate, analytics and chart history, all aggregated in SQL (the rollup where it can). */
/**
 * A GET /exchangeRate body and what it was built from: the versions of the published rate's two live
 * sets and the official entry in force then (the official rate service hands out entries it never
 * changes; a reload brings new objects). Any of them moving means a new body.
 */
interface RateBody {
  sell: number;
  buy: number;
  official: OfficialRateEntity | null;
  dto: ExchangeRateDto;
  json: string;
  /** The json with its byte length, for the cached route (built on first use). */
  answer?: { json: string; bytes: number };
}

@Injectable()
export class MarketService {
  /** The GET /exchangeRate body, memoized per version of its inputs (see RateBody). */
  private body: RateBody | null = null;

  constructor(
    private readonly repo: MarketRepository,
    private readonly users: UsersService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reference: ReferenceRateService,
    private readonly reads: ReadReplica,
    private readonly referenceHistory: ReferenceHistoryService,
    private readonly official: OfficialRateService,
  ) {}

  /** GET /exchangeRate: the reference rate of each direction (ReferenceRateService), and the official one. */
  async exchangeRate(): Promise<ExchangeRateDto> {
    const [rates, official] = await Promise.all([this.reference.published(), this.official.current()]);
    return this.toBody(rates, official).dto;
  }

  /**
   * The cached body with its length in UTF-8 bytes (the Content-Length), measured once per body: the
   * cached route writes the text as it is (Node sends a string body in the same write as the head; a
   * Buffer would take a second one).
   */
  cachedExchangeRateAnswer(): { json: string; bytes: number } | null {
    const b = this.cachedBody();
    return b === null ? null : (b.answer ??= { json: b.json, bytes: Buffer.byteLength(b.json) });
  }

  /** The GET /exchangeRate body while the reference is fresh (for the HTTP fast path), else null. */
  cachedExchangeRateJson(): string | null {
    return this.cachedBody()?.json ?? null;
  }

  /** The body while both live sets and the official rate can answer without waiting, else null. */
  private cachedBody(): RateBody | null {
    const official = this.official.peek();
    if (official === undefined) return null;
    const b = this.body;
    // the usual case: nothing changed since the body was built
    if (b !== null && b.official === official && this.reference.isFreshAt(b.sell, b.buy)) return b;
    const rates = this.reference.peekPublished();
    return rates === null ? null : this.toBody(rates, official);
  }

  /** GET /exchangeRate/official: the official rate in force and the street reference's gap to it. */
  async officialNow(): Promise<OfficialRateNowDto> {
    const [rates, o] = await Promise.all([this.reference.published(), this.official.current()]);
    return {
      usd_to_lbp: o?.usdToLbp ?? null,
      lbp_to_usd: o?.lbpToUsd ?? null,
      source: o?.source ?? null,
      effective_at: o?.effectiveAt.toISOString() ?? null,
      gap_percent: gapOf(rates, o),
    };
  }

  /**
   * The body of a version of the reference, built once per version: what it publishes goes into the
   * shared history at that moment (so what GET /exchangeRate said is what GET /exchangeRate/history
   * keeps, even for a value served for a moment only).
   */
  private toBody(r: ReferenceRates, official: OfficialRateEntity | null): RateBody {
    const [sell, buy] = this.reference.marketVersions();
    const b = this.body;
    if (b !== null && b.sell === sell && b.buy === buy && b.official === official) return b;
    this.referenceHistory.observe(r, this.clock.now());
    const times = [r.usd_to_lbp.updatedAt, r.lbp_to_usd.updatedAt].filter((d): d is Date => d !== null);
    const newest = times.length === 0 ? null : new Date(Math.max(...times.map((d) => d.getTime())));
    const dto: ExchangeRateDto = {
      usd_to_lbp: r.usd_to_lbp.rate,
      lbp_to_usd: r.lbp_to_usd.rate,
      window_hours: this.config.rates.marketWindowHours,
      samples: { usd_to_lbp: r.usd_to_lbp.samples, lbp_to_usd: r.lbp_to_usd.samples },
      contributors: { usd_to_lbp: r.usd_to_lbp.contributors, lbp_to_usd: r.lbp_to_usd.contributors },
      updated_at: newest ? newest.toISOString() : null,
      official: official
        ? {
            usd_to_lbp: official.usdToLbp,
            lbp_to_usd: official.lbpToUsd,
            source: official.source,
            effective_at: official.effectiveAt.toISOString(),
          }
        : null,
      gap_percent: gapOf(r, official),
    };
    this.body = { sell, buy, official, dto, json: JSON.stringify(dto) };
    return this.body;
  }

  /** GET /exchangeRate/official/history. */
  async officialHistory(
    q: { from?: string; to?: string },
    page: Page,
  ): Promise<{ rows: OfficialRateEntryDto[]; total: number }> {
    const range = parseRange(q.from, q.to);
    const [{ rows, total }, now] = await Promise.all([
      this.official.history(range, page),
      this.official.current(),
    ]);
    return { rows: rows.map((o) => toOfficialEntry(o, now?.id ?? null)), total };
  }

  /** GET /exchangeRate/history: the published reference per minute, hour or day, oldest first. */
  async referenceHistoryOf(q: ReferenceHistoryQueryDto): Promise<ReferenceHistoryDto> {
    const parsed = parseRange(q.from, q.to);
    const to = parsed.to ?? this.clock.now();
    const bucket: HistoryBucket =
      q.bucket ?? (parsed.from === undefined ? 'minute' : pickBucket(to.getTime() - parsed.from.getTime()));
    const from = parsed.from ?? new Date(to.getTime() - DEFAULT_SPAN_MS[bucket]);
    if (from.getTime() > to.getTime()) {
      throw new ValidationFailedError([{ field: 'from', message: 'after to' }], 'from must not be after to.');
    }
    if (to.getTime() - from.getTime() > MAX_SPAN_MS[bucket]) {
      throw new ValidationFailedError(
        [{ field: 'to', message: `at most ${MAX_SPAN_MS[bucket] / DAY_MS} days of ${bucket}s` }],
        `A range of ${bucket}s may cover at most ${MAX_SPAN_MS[bucket] / DAY_MS} days; ask for a larger bucket.`,
      );
    }
    const rows = await this.referenceHistory.range(q.direction, bucket, from, to);
    return {
      direction: q.direction,
      bucket,
      from: from.toISOString(),
      to: to.toISOString(),
      points: rows.map((r) => ({
        t: r.bucketStart.toISOString(),
        mid: round6(r.mid),
        low: round6(r.low),
        high: round6(r.high),
        contributors: r.contributors,
      })),
    };
  }

  /** GET /analytics/exchange-rate; 404 NO_DATA without samples. */
  async analytics(userId: number, q: AnalyticsQueryDto): Promise<AnalyticsDto> {
    const scope = q.scope ?? 'market';
    const range = await this.range(userId, q.from, q.to);
    const [total] = await this.reads.run(userId, () =>
      this.aggregate(userId, scope, q.direction, range.span, null),
    );
    if (!total) throw new NoRateDataError();
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      direction: q.direction,
      scope,
      total_transactions: total.count,
      min_rate: round6(total.min),
      max_rate: round6(total.max),
      avg_rate: round6(total.rateSum / total.count),
      vwap: round6(vwapOf(total)),
      first_rate: round6(total.open),
      last_rate: round6(total.close),
      percentage_change: round6(((total.close - total.open) / total.open) * 100),
    };
  }

  /** GET /history/exchange-rate: only buckets that have samples, oldest first. */
  async history(userId: number, q: HistoryQueryDto): Promise<HistoryDto> {
    const scope = q.scope ?? 'market';
    let prefs: UserPreferencesEntity | null = null;
    const preferences = async (): Promise<UserPreferencesEntity> =>
      (prefs ??= await this.users.getPreferences(userId));
    const range = await this.range(userId, q.from, q.to, preferences);
    const bucket: Bucket = q.bucket ?? (await preferences()).defaultBucket;
    const parts = await this.reads.run(userId, () =>
      this.aggregate(userId, scope, q.direction, range.span, bucket),
    );
    return {
      bucket,
      direction: q.direction,
      scope,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      points: parts.map(toPoint),
    };
  }

  /**
   * The explicit range (both or neither; at most 366 days), or the last `default_range_hours` of the
   * user's preferences up to now.
   */
  private async range(
    userId: number,
    from: string | undefined,
    to: string | undefined,
    preferences: () => Promise<UserPreferencesEntity> = () => this.users.getPreferences(userId),
  ): Promise<Range> {
    if ((from === undefined) !== (to === undefined)) {
      const missing = from === undefined ? 'from' : 'to';
      throw new ValidationFailedError(
        [{ field: missing, message: 'from and to must be given together' }],
        'Give both from and to, or neither.',
      );
    }
    const parsed = parseRange(from, to);
    if (parsed.from && parsed.to) {
      const span = { start: parsed.from, end: new Date(parsed.to.getTime() + 1) };
      if (span.end.getTime() - span.start.getTime() > MAX_RANGE_DAYS * 24 * HOUR_MS) {
        throw new ValidationFailedError(
          [{ field: 'to', message: `at most ${MAX_RANGE_DAYS} days after from` }],
          `The range may cover at most ${MAX_RANGE_DAYS} days.`,
        );
      }
      return { from: parsed.from, to: parsed.to, span };
    }
    const hours = (await preferences()).defaultRangeHours;
    const now = this.clock.now();
    const start = new Date(now.getTime() - hours * HOUR_MS);
    return { from: start, to: now, span: { start, end: new Date(now.getTime() + 1) } };
  }

  /**
   * Accepted samples of a direction in a span, aggregated per bucket (or in total when `bucket` is
   * null). `market` reads the hourly rollup for whole hours and the raw samples only at the edges;
   * `mine` aggregates the user's raw samples.
   */
  private async aggregate(
    userId: number,
    scope: Scope,
    direction: Direction,
    span: Span,
    bucket: Bucket | null,
  ): Promise<RatePartial[]> {
    if (scope === 'mine') return this.repo.userSamples(userId, direction, span, bucket);
    const parts = await Promise.all(
      planSpan(span).map((piece) =>
        piece.source === 'rollup'
          ? this.repo.hourlyRollup(direction, piece.span, bucket)
          : this.edge(direction, piece.span, bucket),
      ),
    );
    return mergeByBucket(parts.flat());
  }

  /**
   * A part of one hour (the edges of a span): the hour's rollup when every accepted sample of the
   * hour lies inside the part (as for the current hour, whose samples are all before now), else the
   * raw samples. The rollup read is one primary-key range; the raw one grows with the hour's samples.
   */
  private async edge(direction: Direction, piece: Span, bucket: Bucket | null): Promise<RatePartial[]> {
    const hour = hourStart(piece.start);
    if (hourStart(new Date(piece.end.getTime() - 1)).getTime() !== hour.getTime()) {
      return this.repo.marketSamples(direction, piece, bucket);
    }
    const whole = await this.repo.hourlyRollup(
      direction,
      { start: hour, end: new Date(hour.getTime() + HOUR_MS) },
      bucket,
    );
    const inside = whole.every((p) => p.openAt >= piece.start && p.closeAt < piece.end);
    return inside ? whole : this.repo.marketSamples(direction, piece, bucket);
  }
}
