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
import { type MidRate, ReferenceRateService } from '../rates/reference-rate.service';
import { type LedgerCheck, WalletService, ZERO_BALANCES } from '../wallet/wallet.service';
import type { ConversionEntity } from './conversion.entity';
import type { ConvertDto, ConvertedDto, CreateQuoteDto, HouseStatusDto, QuoteDto } from './dto/house.dto';
import {
  ConversionAmountError,
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

/** The bid (the house buys USD) and the ask (it sells USD) around the mid, in millionths. */
function sides(mid: number, spreadPercent: number): { bid: bigint; ask: bigint } {
  const s = spreadPercent / 100;
  return { bid: rateMicros(mid * (1 - s)), ask: rateMicros(mid * (1 + s)) };
}

const micro = (x: bigint): number => Number(x) / 1e6;

/** A position in USD at a rate (the larger currency exposure decides). */
function exposureUsd(currency: Currency, amount: bigint, midMicros: bigint): bigint {
  const abs = amount < 0n ? -amount : amount;
  return currency === 'USD' ? abs : lbpToUsd(abs, midMicros);
}

/**
 * The house: conversions only at its own quote. A quote is the reference mid minus (bid) or plus
 * (ask) HOUSE_SPREAD_PERCENT, held QUOTE_TTL_SECONDS, usable once; so a round trip always costs the
 * spread and the house gains value at the mid on every conversion. No trustworthy reference (too
 * few contributors, or its newest sample older than QUOTE_REFERENCE_MAX_AGE_MINUTES): no quote.
 * The house's net position in each currency stays within HOUSE_MAX_NET_USD (valued at the quote's
 * mid); a conversion that reduces it is always allowed. Conversions are not rate samples: the
 * house's own price must not feed the rate it quotes from.
 */
@Injectable()
export class HouseService implements OnModuleInit {
  constructor(
    private readonly repo: HouseRepository,
    private readonly wallets: WalletService,
    private readonly reference: ReferenceRateService,
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

  /** The trustworthy mid now, or 422 NO_QUOTE. */
  private async trustedMid(now: Date): Promise<MidRate> {
    const mid = await this.reference.mid();
    if (!mid) throw new NoQuoteError('there is no reference rate (too few contributors)');
    const maxAgeMs = this.config.house.referenceMaxAgeMinutes * 60_000;
    if (now.getTime() - mid.updatedAt.getTime() > maxAgeMs) {
      throw new NoQuoteError(
        `the reference rate is stale (its newest sample is from ${mid.updatedAt.toISOString()})`,
      );
    }
    return mid;
  }

  /** POST /quotes: what the house pays for `from_amount` now, held for QUOTE_TTL_SECONDS. */
  async quote(p: HouseActor, dto: CreateQuoteDto, meta: RequestMeta): Promise<QuoteDto> {
    if (dto.from_currency === dto.to_currency) {
      throw new ValidationFailedError(
        [{ field: 'to_currency', message: 'must differ from from_currency' }],
        'A conversion gives one currency for the other.',
      );
    }
    const now = this.clock.now();
    const mid = await this.trustedMid(now);
    const spread = this.config.house.spreadPercent;
    const { bid, ask } = sides(mid.rate, spread);
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
          referenceRate: mid.rate,
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
   * in one transaction with the balance check, the ledger legs against `house`, the position and
   * the audit row. A refusal (short balance, the house limit) rolls the claim back too.
   */
  async convert(p: HouseActor, dto: ConvertDto, meta: RequestMeta, key?: string): Promise<ConvertedDto> {
    let converted: string | null = null;
    const result = await this.idempotency.execute(
      { userId: p.id, key, request: { route: 'convert', quote_id: dto.quote_id } },
      async (m) => {
        const now = this.clock.now();
        const quote = await this.claim(p.id, dto.quote_id, now, m);
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
        this.checkLimit(before, deltas, rateMicros(quote.referenceRate));
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

  /** GET /admin/house. */
  async status(): Promise<HouseStatusDto> {
    const now = this.clock.now();
    const [mid, stored, ledger, recent] = await Promise.all([
      this.reference.mid(),
      this.repo.positions(),
      this.repo.ledgerPositions(),
      this.repo.countConversionsSince(new Date(now.getTime() - DAY_MS)),
    ]);
    const spread = this.config.house.spreadPercent;
    const s = mid ? sides(mid.rate, spread) : null;
    return {
      reference_rate: mid?.rate ?? null,
      bid: s ? micro(s.bid) : null,
      ask: s ? micro(s.ask) : null,
      spread_percent: spread,
      net_position: { usd: toMajor(stored.USD ?? ledger.USD), lbp: toMajor(stored.LBP ?? ledger.LBP) },
      limit_usd: toMajor(this.config.house.maxNetUsd),
      conversions_24h: recent,
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
