import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { MaintenanceState } from '../common/maintenance';
import { Clock } from '../common/clock';
import { ValidationFailedError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import {
  type Currency,
  formatMinor,
  lbpToUsd,
  MAX_AMOUNT_MAJOR,
  rateMicros,
  toMajor,
  toMinor,
  usdToLbp,
} from '../common/money';
import type { Page } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { type Guard, GuardService, type HaltReason } from '../rates/guard.service';
import { dayStart } from '../database/dialect';
import { type LedgerCheck, WalletService, ZERO_BALANCES } from '../wallet/wallet.service';
import type { ConversionEntity } from './conversion.entity';
import type { ConvertDto, ConvertedDto, CreateQuoteDto, HouseStatusDto, QuoteDto } from './dto/house.dto';
import {
  ConversionAmountError,
  ConversionLimitError,
  HouseLimitError,
  NoQuoteError,
  QuoteExpiredError,
  QuoteNotFoundError,
  QuoteUsedError,
} from './house.errors';
import { toConversionDto, toQuoteDto } from './house.mapper';
import { HouseRepository, type Positions } from './house.repository';
import { METRICS } from '../metrics/metrics';
import type { QuoteEntity } from './quote.entity';

const MAX_TO_MINOR = BigInt(MAX_AMOUNT_MAJOR) * 100n;
const DAY_MS = 24 * 3_600_000;

export type HouseActor = AuditActor & { id: number };

/**
 * The bid (the house buys USD: the window's lowest mid less the spread, rounded down) and the ask (it
 * sells USD: the highest plus the spread, rounded up), in millionths: rounding never favours the user.
 */
function sides(low: number, high: number, spreadPercent: number): { bid: bigint; ask: bigint } {
  const s = spreadPercent / 100;
  const bid = BigInt(Math.floor(low * (1 - s) * 1e6));
  const ask = BigInt(Math.ceil(high * (1 + s) * 1e6));
  if (bid <= 0n) throw new RangeError(`not a usable rate: ${low}`);
  return { bid, ask };
}

const HALT_WHY: Record<HaltReason, string> = {
  too_few_contributors: 'there is no reference rate (too few established contributors)',
  stale:
    'the reference rate is stale (no established contributor recorded within QUOTE_REFERENCE_MAX_AGE_MINUTES)',
  volatile: 'the reference rate moved too much within the guard window; quotes resume when it settles',
};

/** The USD leg of a conversion: what counts toward the daily conversion limit. */
function usdLeg(q: Pick<QuoteEntity, 'fromCurrency' | 'fromAmount' | 'toAmount'>): bigint {
  return q.fromCurrency === 'USD' ? q.fromAmount : q.toAmount;
}

const micro = (x: bigint): number => Number(x) / 1e6;

/** A position in USD at a rate (the larger currency exposure decides). */
function exposureUsd(currency: Currency, amount: bigint, midMicros: bigint): bigint {
  const abs = amount < 0n ? -amount : amount;
  return currency === 'USD' ? abs : lbpToUsd(abs, midMicros);
}

/**
 * The house: conversions only at its own quote. A quote is priced from the guard (GuardService): the
 * lowest published mid of QUOTE_GUARD_MINUTES minus HOUSE_SPREAD_PERCENT (bid) or the highest plus
 * it (ask), held QUOTE_TTL_SECONDS, usable once; so a round trip inside the window costs at least
 * twice the spread plus the window's range whichever way the reference moved, and the house gains
 * value at the mid on every conversion. No quote while the guard halts (too few contributors, stale,
 * volatile). The house's net position in each currency stays within HOUSE_MAX_NET_USD and each
 * user's conversions within CONVERSION_DAILY_LIMIT_USD a UTC day (LBP valued at the window's lowest
 * mid); a conversion that reduces the house's position is always allowed. Conversions are not rate
 * samples: the house's own price must not feed the rate it quotes from.
 */
@Injectable()
export class HouseService implements OnModuleInit {
  constructor(
    private readonly repo: HouseRepository,
    private readonly wallets: WalletService,
    private readonly guards: GuardService,
    private readonly idempotency: IdempotencyService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    maintenance: MaintenanceState,
  ) {
    maintenance.onDataReplaced(() => {
      this.positionsExist = false;
    });
  }

  /** Whether the house's position rows are known to exist (they are never deleted but by a restore). */
  private positionsExist = false;

  onModuleInit(): void {
    this.wallets.addInvariant((m) => this.positionMismatches(m));
  }

  /** The guard now, unless it halts the house: then 422 NO_QUOTE with the reason in `details`. */
  private async openGuard(): Promise<Guard & { mid: number; lowMid: number; highMid: number }> {
    const g = await this.guards.guard();
    if (g.halted || g.mid === null || g.lowMid === null || g.highMid === null) {
      const reason = g.reason ?? 'too_few_contributors';
      throw new NoQuoteError(HALT_WHY[reason], reason);
    }
    return { ...g, mid: g.mid, lowMid: g.lowMid, highMid: g.highMid };
  }

  /** POST /quotes: what the house pays for `from_amount` now, held for QUOTE_TTL_SECONDS. */
  async quote(p: HouseActor, dto: CreateQuoteDto, meta: RequestMeta): Promise<QuoteDto> {
    if (dto.from_currency === dto.to_currency) {
      throw new ValidationFailedError(
        [{ field: 'to_currency', message: 'must differ from from_currency' }],
        'A conversion gives one currency for the other.',
      );
    }
    const g = await this.openGuard();
    const now = this.clock.now();
    const spread = this.config.house.spreadPercent;
    const { bid, ask } = sides(g.lowMid, g.highMid, spread);
    const from = toMinor(dto.from_amount);
    const givesUsd = dto.from_currency === 'USD';
    const rate = givesUsd ? bid : ask;
    const to = givesUsd ? usdToLbp(from, rate) : lbpToUsd(from, rate);
    if (to < 1n) throw new ConversionAmountError(`too small: it would pay less than 0.01 ${dto.to_currency}`);
    if (to > MAX_TO_MINOR)
      throw new ConversionAmountError(`too large: it would pay more than 1e12 ${dto.to_currency}`);
    return this.tx.run(async (m) => {
      const q = await this.repo.insertQuote(
        {
          userId: p.id,
          fromCurrency: dto.from_currency,
          toCurrency: dto.to_currency,
          fromAmount: from,
          toAmount: to,
          rate: micro(rate),
          referenceRate: g.mid,
          valuationRate: g.lowMid,
          spreadPercent: spread,
          createdAt: now,
          expiresAt: new Date(now.getTime() + this.config.house.quoteTtlSeconds * 1000),
          usedAt: null,
        },
        m,
      );
      await this.audit.record(
        {
          event: AuditEvent.QUOTE_CREATE,
          action: 'quote',
          success: true,
          statusCode: 201,
          message: `quote ${q.id}: ${formatMinor(from)} ${q.fromCurrency} -> ${formatMinor(to)} ${q.toCurrency} at ${q.rate}`,
          actor: p,
          targetUserId: p.id,
          metadata: {
            quote_id: q.id,
            rate: q.rate,
            reference_rate: q.referenceRate,
            guard_low_mid: g.lowMid,
            guard_high_mid: g.highMid,
            expires_at: q.expiresAt.toISOString(),
          },
          request: meta,
        },
        m,
      );
      return toQuoteDto(q);
    });
  }

  /**
   * POST /wallet/convert: executes the caller's quote exactly once (the claim is a conditional
   * update: of any number of simultaneous converts of one quote, one wins; the others get 409), all
   * in one transaction with the daily limit, the balance check, the ledger legs against `house`, the
   * position and the audit row. A refusal (daily limit, short balance, the house limit) rolls the
   * claim back too. The user's conversions run one at a time (their wallet row is locked first), so
   * parallel ones cannot both fit the last of the daily limit.
   */
  async convert(p: HouseActor, dto: ConvertDto, meta: RequestMeta, key?: string): Promise<ConvertedDto> {
    let converted: string | null = null;
    const result = await this.idempotency.execute(
      { userId: p.id, key, request: { route: 'convert', quote_id: dto.quote_id } },
      async (m) => {
        const now = this.clock.now();
        await this.wallets.lockUser(p.id, m);
        const quote = await this.claim(p.id, dto.quote_id, now, m);
        await this.checkDailyLimit(p.id, quote, now, m);
        // once per process (and after a restore): the position rows exist before any leg is posted
        if (!this.positionsExist) await this.repo.ensurePositions(now, m);
        const deltas = this.houseDeltas(quote);
        const posted = await this.wallets.post(
          {
            kind: 'CONVERSION',
            refType: 'quote',
            refId: quote.id,
            legs: [
              {
                account: 'user',
                userId: p.id,
                currency: quote.fromCurrency,
                amount: -quote.fromAmount,
                field: 'quote_id',
              },
              { account: 'house', currency: quote.fromCurrency, amount: quote.fromAmount },
              { account: 'user', userId: p.id, currency: quote.toCurrency, amount: quote.toAmount },
              { account: 'house', currency: quote.toCurrency, amount: -quote.toAmount },
            ],
          },
          m,
        );
        const conversion = await this.repo.insertConversion(
          {
            quoteId: quote.id,
            userId: p.id,
            fromCurrency: quote.fromCurrency,
            fromAmount: quote.fromAmount,
            toCurrency: quote.toCurrency,
            toAmount: quote.toAmount,
            rate: quote.rate,
            referenceRate: quote.referenceRate,
            createdAt: now,
          },
          m,
        );
        await this.audit.record(
          {
            event: AuditEvent.CONVERSION_CREATE,
            action: 'convert',
            success: true,
            statusCode: 201,
            message: `conversion ${conversion.id} (quote ${quote.id}): ${formatMinor(quote.fromAmount)} ${quote.fromCurrency} -> ${formatMinor(quote.toAmount)} ${quote.toCurrency}`,
            actor: p,
            targetUserId: p.id,
            metadata: {
              conversion_id: conversion.id,
              quote_id: quote.id,
              rate: quote.rate,
              reference_rate: quote.referenceRate,
              idempotency_key: key ?? null,
            },
            request: meta,
          },
          m,
        );
        // Last: the house's position rows are one pair every conversion locks, so they are locked
        // just before the commit (held for two statements, not the whole conversion). A refusal here
        // rolls back everything above with it.
        const before = await this.repo.lockPositions(m);
        this.checkLimit(before, deltas, rateMicros(quote.valuationRate ?? quote.referenceRate));
        await this.repo.addToPositions(deltas, now, m);
        this.positionsExist = true;
        const b = posted.balances.get(p.id) ?? ZERO_BALANCES;
        const body: ConvertedDto = {
          ...toConversionDto(conversion),
          usd_balance: toMajor(b.usdAvailable),
          lbp_balance: toMajor(b.lbpAvailable),
        };
        converted = quote.fromCurrency;
        return { status: 201, body };
      },
    );
    if (converted) METRICS.conversions.inc({ from_currency: converted });
    return result.body;
  }

  /** The caller's quote, claimed for this transaction; 404 for another's, 409 used or expired. */
  private async claim(userId: number, quoteId: number, now: Date, m: EntityManager): Promise<QuoteEntity> {
    const quote = await this.repo.findQuote(quoteId, m);
    if (!quote || quote.userId !== userId) throw new QuoteNotFoundError();
    if (await this.repo.claimQuote(quoteId, userId, now, m)) return quote;
    // a quote's expiry never changes: unexpired, it lost the claim to another convert
    if (quote.expiresAt.getTime() <= now.getTime()) throw new QuoteExpiredError();
    throw new QuoteUsedError();
  }

  /** 422 LIMIT_EXCEEDED when the day's conversions (their USD legs) with this one pass the limit. */
  private async checkDailyLimit(
    userId: number,
    quote: QuoteEntity,
    now: Date,
    m: EntityManager,
  ): Promise<void> {
    const limit = this.config.house.conversionDailyLimitUsd;
    const used = await this.repo.usdConvertedSince(userId, dayStart(now), m);
    if (used + usdLeg(quote) > limit) throw new ConversionLimitError(limit, used);
  }

  /** How the house's positions move: it receives the from side and pays the to side. */
  private houseDeltas(q: QuoteEntity): Positions {
    const d: Positions = { USD: 0n, LBP: 0n };
    d[q.fromCurrency] += q.fromAmount;
    d[q.toCurrency] -= q.toAmount;
    return d;
  }

  /** 422 HOUSE_LIMIT when a currency's position grows past the limit (shrinking is always fine). */
  private checkLimit(before: Positions, deltas: Positions, midMicros: bigint): void {
    const limit = this.config.house.maxNetUsd;
    for (const currency of ['USD', 'LBP'] as const) {
      const was = exposureUsd(currency, before[currency], midMicros);
      const will = exposureUsd(currency, before[currency] + deltas[currency], midMicros);
      if (will > limit && will > was) throw new HouseLimitError(currency, limit);
    }
  }

  listConversions(userId: number, page: Page): Promise<{ rows: ConversionEntity[]; total: number }> {
    return this.repo.listConversions(userId, page);
  }

  /** GET /admin/house: bid and ask as the house would quote now (null while it is halted). */
  async status(): Promise<HouseStatusDto> {
    const now = this.clock.now();
    const [g, stored, ledger, recent] = await Promise.all([
      this.guards.guard(),
      this.repo.positions(),
      this.repo.ledgerPositions(),
      this.repo.countConversionsSince(new Date(now.getTime() - DAY_MS)),
    ]);
    const spread = this.config.house.spreadPercent;
    const s =
      !g.halted && g.lowMid !== null && g.highMid !== null ? sides(g.lowMid, g.highMid, spread) : null;
    return {
      reference_rate: g.mid,
      bid: s ? micro(s.bid) : null,
      ask: s ? micro(s.ask) : null,
      spread_percent: spread,
      net_position: { usd: toMajor(stored.USD ?? ledger.USD), lbp: toMajor(stored.LBP ?? ledger.LBP) },
      limit_usd: toMajor(this.config.house.maxNetUsd),
      conversions_24h: recent,
      guard: {
        window_minutes: g.windowMinutes,
        low_mid: g.lowMid,
        high_mid: g.highMid,
        move_percent: g.movePercent === null ? null : Math.round(g.movePercent * 1e4) / 1e4,
        halted: g.halted,
        reason: g.reason,
      },
    };
  }

  /** The ledger check: the stored positions equal the house's legs. */
  private async positionMismatches(m: EntityManager): Promise<LedgerCheck['mismatches']> {
    const [stored, ledger] = await Promise.all([this.repo.positions(m), this.repo.ledgerPositions(m)]);
    return (['USD', 'LBP'] as const)
      .filter((c) => stored[c] !== null && stored[c] !== ledger[c])
      .map((c) => ({
        user_id: null,
        check: 'house_position_equals_ledger',
        currency: c,
        expected: formatMinor(ledger[c]),
        actual: formatMinor(stored[c] ?? 0n),
      }));
  }
}
