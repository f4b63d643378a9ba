import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AlertsService } from '../alerts/alerts.service';
import { AuditEvent, type AuditEventType } from '../audit/audit-events';
import { type AuditActor, type AuditEntry, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { parseRange } from '../common/dates';
import { ConflictError, ValidationFailedError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { type Currency, formatMinor, impliedRate, toMajor, toMinor, roundRate } from '../common/money';
import type { Page } from '../common/pagination';
import { TransactionRunner } from '../database/transaction-runner';
import { ReadReplica } from '../database/read-replica';
import { NotificationsService } from '../notifications/notifications.service';
import type { Direction } from '../rates/rate-sample.entity';
import type { Baseline } from '../rates/outlier-detector';
import { RatesService } from '../rates/rates.service';
import { UsersService } from '../users/users.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { toWalletDto } from '../wallet/wallet.mapper';
import { type Balances, WalletService, ZERO_BALANCES } from '../wallet/wallet.service';
import type {
  AcceptOfferDto,
  CreateOfferDto,
  MyOfferQueryDto,
  OfferAcceptedDto,
  OfferCancelledDto,
  OfferCreatedDto,
  OfferQueryDto,
  TradeQueryDto,
} from './dto/offer.dto';
import { priceFill, wantAfter } from './fill-pricing';
import type { OfferEntity } from './offer.entity';
import { effectiveStatus, toOfferDto, toOwnOfferDto, toTradeDto } from './offer.mapper';
import {
  OfferNotFoundError,
  OfferNotOpenError,
  OfferRemainderTooSmallError,
  OwnOfferError,
} from './offers.errors';
import { OPEN_OFFER_HOLDS, OffersRepository } from './offers.repository';
import { MaintenanceState } from '../common/maintenance';
import { EventBus } from '../common/events/event-bus';
import { METRICS, readGauge } from '../metrics/metrics';
import type { TradeEntity } from './trade.entity';

/** Offers expired per sweep transaction batch, and batches per sweep run. */
const EXPIRY_BATCH = 200;
const EXPIRY_MAX_BATCHES = 50;

export type OfferActor = AuditActor & { id: number };

/** Offers whose facts are kept (tradeBaseline); past it the map starts over. */
const OFFER_FACTS_MAX = 10_000;

export interface ExpirySweepResult {
  expired: number;
  /** Offers whose expiry failed (logged; retried by the next sweep). */
  failed: number;
}

const directionOf = (give: Currency): Direction => (give === 'USD' ? 'usd_to_lbp' : 'lbp_to_usd');

/** One take of an offer: the give side taken and the want side paid for it (minor units). */
interface Take {
  fill: bigint;
  pay: bigint;
}

/** The offer as a take leaves it. */
function offerAfter(offer: OfferEntity, { fill, pay }: Take, now: Date): OfferEntity {
  const emptied = fill === offer.remainingGiveAmount;
  return {
    ...offer,
    remainingGiveAmount: offer.remainingGiveAmount - fill,
    remainingWantAmount: wantAfter(offer, pay),
    receivedWantAmount: offer.receivedWantAmount + pay,
    status: emptied ? 'COMPLETED' : 'OPEN',
    closedAt: emptied ? now : null,
    updatedAt: now,
  };
}

/**
 * The P2P marketplace. Every state change of an offer (take, cancel, expiry) first locks the offer row
 * and then compare-and-sets its remainder, so concurrent takers, cancels and the sweep of one offer
 * settle one after another and can never move the same remainder twice. Escrow lives in the maker's
 * held balance; every move is a ledger journal in the same transaction as the offer change, the trade,
 * the rate sample, the notifications and the audit row.
 */
@Injectable()
export class OffersService implements OnModuleInit {
  private readonly logger = new Logger(OffersService.name);

  constructor(
    private readonly repo: OffersRepository,
    private readonly wallets: WalletService,
    private readonly rates: RatesService,
    private readonly idempotency: IdempotencyService,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly alerts: AlertsService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly events: EventBus,
    private readonly reads: ReadReplica,
    private readonly users: UsersService,
    private readonly webhooks: WebhooksService,
    maintenance: MaintenanceState,
  ) {
    maintenance.onDataReplaced(() => this.offerFacts.clear());
  }

  /**
   * An offer's direction and maker, which never change once it exists: kept so that a hot offer's
   * takers do not each read the row before their transaction (which reads and locks it anyway).
   * A restore may reuse ids for other offers: it empties this.
   */
  private readonly offerFacts = new Map<number, { direction: Direction; creatorUserId: number }>();

  /** Tells live streams, once `m` commits, that the order book changed. */
  /** The order book changed: live streams after the commit; the maker's webhooks in the transaction. */
  private async announce(
    action: 'created' | 'filled' | 'cancelled' | 'expired',
    offer: OfferEntity,
    now: Date,
    m: EntityManager,
  ): Promise<void> {
    this.tx.afterCommit(m, () =>
      this.events.publish({ type: 'offer', data: { action, offer: toOfferDto(offer, now) } }),
    );
    await this.webhooks.enqueueForUsers(
      'offer',
      [{ userId: offer.creatorUserId, data: { action, offer: toOwnOfferDto(offer, now) } }],
      m,
    );
  }

  onModuleInit(): void {
    this.wallets.addHoldSource({ name: 'open offers', sql: OPEN_OFFER_HOLDS });
    readGauge('exchange_offers_open', 'Open offers in the order book', [], () => this.repo.countOpen());
  }

  /** POST /market/offers: the outlier guard, the offer row and its escrow, in one transaction. */
  async create(
    p: OfferActor,
    dto: CreateOfferDto,
    meta: RequestMeta,
    key?: string,
  ): Promise<OfferCreatedDto> {
    if (dto.give_currency === dto.want_currency) {
      throw new ValidationFailedError(
        [{ field: 'want_currency', message: 'must differ from give_currency' }],
        'An offer must give one currency and want the other.',
      );
    }
    const give = toMinor(dto.give_amount);
    const want = toMinor(dto.want_amount);
    const minFill = dto.min_fill_amount == null ? null : toMinor(dto.min_fill_amount);
    if (minFill !== null && minFill > give) {
      throw new ValidationFailedError([{ field: 'min_fill_amount', message: 'must not exceed give_amount' }]);
    }
    const [usd, lbp] = dto.give_currency === 'USD' ? [give, want] : [want, give];
    const rate = impliedRate(usd, lbp);
    const direction = directionOf(dto.give_currency);
    const baseline = await this.rates.liveBaseline(direction, p.id); // before the transaction
    const result = await this.idempotency.execute(
      {
        userId: p.id,
        key,
        // null optional fields mean absent (as above), so a replay sending null matches one omitting them
        request: {
          route: 'offer-create',
          ...dto,
          min_fill_amount: dto.min_fill_amount ?? undefined,
          expires_in_hours: dto.expires_in_hours ?? undefined,
        },
      },
      async (m) => {
        const now = this.clock.now();
        this.rates.accept(baseline, rate);
        const offer = await this.repo.insert(
          {
            creatorUserId: p.id,
            giveCurrency: dto.give_currency,
            giveAmount: give,
            wantCurrency: dto.want_currency,
            wantAmount: want,
            remainingGiveAmount: give,
            remainingWantAmount: want,
            receivedWantAmount: 0n,
            minFillAmount: minFill,
            rate,
            status: 'OPEN',
            refundedAmount: 0n,
            createdAt: now,
            expiresAt:
              dto.expires_in_hours == null
                ? null
                : new Date(now.getTime() + dto.expires_in_hours * 3_600_000),
            closedAt: null,
            updatedAt: now,
          },
          m,
        );
        await this.announce('created', offer, now, m);
        const posted = await this.wallets.post(
          {
            kind: 'OFFER_ESCROW',
            refType: 'offer',
            refId: offer.id,
            legs: [
              {
                account: 'user',
                userId: p.id,
                currency: dto.give_currency,
                amount: -give,
                field: 'give_amount',
              },
              { account: 'user_held', userId: p.id, currency: dto.give_currency, amount: give },
            ],
          },
          m,
        );
        await this.audit.record(
          {
            event: AuditEvent.OFFER_CREATE,
            action: 'create offer',
            success: true,
            statusCode: 201,
            message: `offer ${offer.id}: ${formatMinor(give)} ${dto.give_currency} for ${formatMinor(want)} ${dto.want_currency}`,
            actor: p,
            targetUserId: p.id,
            metadata: { offer_id: offer.id, ...offerFields(offer), idempotency_key: key ?? null },
            request: meta,
          },
          m,
        );
        const body: OfferCreatedDto = {
          ...toOwnOfferDto(offer, now),
          ...toWalletDto(posted.balances.get(p.id) ?? ZERO_BALANCES),
        };
        return { status: 201, body };
      },
    );
    return result.body;
  }

  /**
   * POST /market/offers/:id/accept: takes `amount` of the give side (default: all that is left) and
   * settles at once: the taker pays its share of the remaining want side to the maker and receives
   * the give side out of the maker's escrow. One transaction, in named steps.
   */
  async accept(
    p: OfferActor,
    offerId: number,
    dto: AcceptOfferDto,
    meta: RequestMeta,
    key?: string,
  ): Promise<OfferAcceptedDto> {
    const asked = dto.amount == null ? null : toMinor(dto.amount);
    const baseline = await this.tradeBaseline(offerId);
    let moved: Direction | null = null;
    const result = await this.idempotency.execute(
      {
        userId: p.id,
        key,
        request: { route: 'offer-accept', offer_id: offerId, amount: dto.amount ?? null },
      },
      async (m) => {
        const now = this.clock.now();
        const offer = await this.lockTakeable(offerId, p.id, now, m);
        const take = this.sizeTake(offer, asked);
        const trade = await this.recordTrade(offer, p.id, take, now, m);
        const balances = await this.settleTrade(offer, trade, p.id, take, m);
        const after = offerAfter(offer, take, now);
        await this.announceTrade(p, offer, after, trade, take, { meta, key }, m);
        await this.announce('filled', after, now, m);
        const body: OfferAcceptedDto = {
          message: 'Offer accepted',
          trade_id: trade.id,
          trade: toTradeDto(trade, p.id),
          offer: toOfferDto(after, now),
          ...toWalletDto(balances),
        };
        // Last: the hourly rollup row is shared by every sample of the hour (see TransactionsService).
        moved = await this.sampleTrade(offer, trade, now, baseline, m);
        return { status: 201, body };
      },
    );
    // After the commit (and not for a replayed response): alerts see the trade's sample.
    if (moved) {
      METRICS.trades.inc();
      await this.alerts.evaluateAfterCommit(moved);
    }
    return result.body;
  }

  /**
   * The live baseline a trade on this offer is judged against as a rate sample (the other
   * contributors than its maker), read before the transaction: an offer's direction and maker never
   * change. Null for an unknown offer (the transaction then answers 404).
   */
  private async tradeBaseline(offerId: number): Promise<Baseline | null> {
    let facts = this.offerFacts.get(offerId);
    if (!facts) {
      const offer = await this.repo.find(offerId);
      if (!offer) return null;
      facts = { direction: directionOf(offer.giveCurrency), creatorUserId: offer.creatorUserId };
      if (this.offerFacts.size >= OFFER_FACTS_MAX) this.offerFacts.clear();
      this.offerFacts.set(offerId, facts);
    }
    return this.rates.liveBaseline(facts.direction, facts.creatorUserId);
  }

  /** The offer, locked, if the taker may take it now: someone else's, and open. */
  private async lockTakeable(
    offerId: number,
    takerId: number,
    now: Date,
    m: EntityManager,
  ): Promise<OfferEntity> {
    const offer = await this.repo.findForUpdate(offerId, m);
    if (!offer) throw new OfferNotFoundError();
    if (offer.creatorUserId === takerId) throw new OwnOfferError();
    const status = effectiveStatus(offer, now);
    if (status !== 'OPEN') throw new OfferNotOpenError(status);
    return offer;
  }

  /** How much of the give side is taken (default: all that is left) and what the taker pays for it. */
  private sizeTake(offer: OfferEntity, asked: bigint | null): Take {
    const remaining = offer.remainingGiveAmount;
    const fill = asked ?? remaining;
    if (fill > remaining) throw new OfferRemainderTooSmallError(formatMinor(remaining), offer.giveCurrency);
    return { fill, pay: priceFill(offer, fill) };
  }

  /** Compare-and-sets the offer's remainder and records the trade. */
  private async recordTrade(
    offer: OfferEntity,
    takerId: number,
    { fill, pay }: Take,
    now: Date,
    m: EntityManager,
  ): Promise<TradeEntity> {
    if (!(await this.repo.applyFill(offer, fill, pay, now, m))) throw new OfferNotOpenError('COMPLETED');
    const givesUsd = offer.giveCurrency === 'USD';
    const [usd, lbp] = givesUsd ? [fill, pay] : [pay, fill];
    return this.repo.insertTrade(
      {
        offerId: offer.id,
        makerUserId: offer.creatorUserId,
        takerUserId: takerId,
        buyerUserId: givesUsd ? takerId : offer.creatorUserId,
        sellerUserId: givesUsd ? offer.creatorUserId : takerId,
        usdAmount: usd,
        lbpAmount: lbp,
        rate: impliedRate(usd, lbp),
        createdAt: now,
      },
      m,
    );
  }

  /** The money: the give side out of the maker's escrow to the taker, the want side from the taker to the maker. */
  private async settleTrade(
    offer: OfferEntity,
    trade: TradeEntity,
    takerId: number,
    { fill, pay }: Take,
    m: EntityManager,
  ): Promise<Balances> {
    const maker = offer.creatorUserId;
    const posted = await this.wallets.post(
      {
        kind: 'TRADE',
        refType: 'trade',
        refId: trade.id,
        legs: [
          { account: 'user_held', userId: maker, currency: offer.giveCurrency, amount: -fill },
          { account: 'user', userId: takerId, currency: offer.giveCurrency, amount: fill },
          { account: 'user', userId: takerId, currency: offer.wantCurrency, amount: -pay, field: 'amount' },
          { account: 'user', userId: maker, currency: offer.wantCurrency, amount: pay },
        ],
      },
      m,
    );
    return posted.balances.get(takerId) ?? ZERO_BALANCES;
  }

  /** The audit row and both sides' notifications. */
  private async announceTrade(
    p: OfferActor,
    offer: OfferEntity,
    after: OfferEntity,
    trade: TradeEntity,
    { fill, pay }: Take,
    request: { meta: RequestMeta; key: string | undefined },
    m: EntityManager,
  ): Promise<void> {
    const summary = tradeSummary(trade);
    await this.audit.record(
      {
        event: AuditEvent.OFFER_ACCEPT,
        action: 'accept offer',
        success: true,
        statusCode: 201,
        message: `offer ${offer.id}, trade ${trade.id}: ${summary}`,
        actor: p,
        targetUserId: offer.creatorUserId,
        metadata: {
          offer_id: offer.id,
          trade_id: trade.id,
          fill_amount: formatMinor(fill),
          pay_amount: formatMinor(pay),
          give_currency: offer.giveCurrency,
          remaining_give_amount: formatMinor(after.remainingGiveAmount),
          offer_status: after.status,
          idempotency_key: request.key ?? null,
        },
        request: request.meta,
      },
      m,
    );
    await this.notifications.notifyAll(
      [
        {
          userId: offer.creatorUserId,
          eventType: 'OFFER_ACCEPTED',
          title: after.status === 'COMPLETED' ? 'Your offer was taken' : 'Your offer was partly taken',
          message: `Offer #${offer.id}: ${summary}. ${formatMinor(after.remainingGiveAmount)} ${offer.giveCurrency} left.`,
          refType: 'trade',
          refId: trade.id,
        },
        {
          userId: p.id,
          eventType: 'TRADE_COMPLETED',
          title: 'Trade settled',
          message: `You took offer #${offer.id}: ${summary}.`,
          refType: 'trade',
          refId: trade.id,
        },
      ],
      m,
    );
  }

  /**
   * The trade's rate sample (the maker's price). Its rate was checked when the offer was made; if the
   * market has moved away since, the sample is stored flagged as an outlier rather than refusing a
   * price both sides agreed to. It counts toward the reference only while the maker is established.
   * Returns the direction whose alerts to evaluate.
   */
  private async sampleTrade(
    offer: OfferEntity,
    trade: TradeEntity,
    now: Date,
    baseline: Baseline | null,
    m: EntityManager,
  ): Promise<Direction> {
    const direction = directionOf(offer.giveCurrency);
    const maker = await this.users.getById(offer.creatorUserId, m);
    await this.rates.record(
      {
        direction,
        rate: trade.rate,
        source: 'trade',
        usdVolume: trade.usdAmount,
        userId: offer.creatorUserId,
        tradeId: trade.id,
        counted: this.users.establishmentOf(maker).established,
        createdAt: now,
      },
      m,
      baseline ? this.rates.judgeWith(baseline, trade.rate) : undefined,
    );
    return direction;
  }

  /** DELETE /market/offers/:id (the creator) and DELETE /admin/market/offers/:id (an admin). */
  async cancel(
    actor: OfferActor,
    offerId: number,
    asAdmin: boolean,
    meta: RequestMeta,
  ): Promise<OfferCancelledDto> {
    return this.tx.run(async (m) => {
      const now = this.clock.now();
      const offer = await this.repo.findForUpdate(offerId, m);
      if (!offer || (!asAdmin && offer.creatorUserId !== actor.id)) throw new OfferNotFoundError();
      const status = effectiveStatus(offer, now);
      if (status !== 'OPEN') throw new OfferNotOpenError(status);
      await this.closeWithRefund(offer, 'CANCELLED', now, m, {
        event: asAdmin ? AuditEvent.ADMIN_OFFER_CANCEL : AuditEvent.OFFER_CANCEL,
        action: asAdmin ? 'cancel offer (admin)' : 'cancel offer',
        audit: { actor, statusCode: 200, request: meta },
        // the maker learns of it unless they did it themselves
        notifyTitle: asAdmin ? 'Your offer was cancelled by an administrator' : null,
      });
      return {
        message: 'Offer cancelled',
        id: offer.id,
        refunded_amount: toMajor(offer.remainingGiveAmount),
        currency: offer.giveCurrency,
        status: 'CANCELLED',
      };
    });
  }

  /**
   * Cancels or expires an offer the caller has locked and seen OPEN: the refund out of escrow, the
   * audit row and, with `notifyTitle`, a notification to the maker, all in the caller's transaction.
   */
  private async closeWithRefund(
    offer: OfferEntity,
    status: 'CANCELLED' | 'EXPIRED',
    now: Date,
    m: EntityManager,
    how: {
      event: AuditEventType;
      action: string;
      audit: Pick<AuditEntry, 'actor' | 'statusCode' | 'request'>;
      notifyTitle: string | null;
    },
  ): Promise<void> {
    await this.refund(offer, status, now, m);
    await this.announce(
      status === 'CANCELLED' ? 'cancelled' : 'expired',
      { ...offer, status, closedAt: now },
      now,
      m,
    );
    const refunded = `${formatMinor(offer.remainingGiveAmount)} ${offer.giveCurrency}`;
    const happened = status === 'CANCELLED' ? 'was cancelled' : 'expired';
    await this.audit.record(
      {
        ...how.audit,
        event: how.event,
        action: how.action,
        success: true,
        message: `offer ${offer.id} ${status === 'CANCELLED' ? 'cancelled' : 'expired'}, ${refunded} refunded`,
        targetUserId: offer.creatorUserId,
        metadata: {
          offer_id: offer.id,
          ...offerFields(offer),
          refunded_amount: formatMinor(offer.remainingGiveAmount),
        },
      },
      m,
    );
    if (how.notifyTitle === null) return;
    await this.notifications.notify(
      {
        userId: offer.creatorUserId,
        eventType: status === 'CANCELLED' ? 'OFFER_CANCELLED' : 'OFFER_EXPIRED',
        title: how.notifyTitle,
        message: `Offer #${offer.id} ${happened}; ${refunded} went back to your balance.`,
        refType: 'offer',
        refId: offer.id,
      },
      m,
    );
  }

  /** Closes an offer the caller has locked and seen OPEN, and books its remainder out of escrow. */
  private async refund(
    offer: OfferEntity,
    status: 'CANCELLED' | 'EXPIRED',
    now: Date,
    m: EntityManager,
  ): Promise<void> {
    // the row is locked by the caller, so this only fails if the lock was not taken: never refund twice
    if (!(await this.repo.close(offer, status, now, m)))
      throw new ConflictError('This offer changed while it was being closed; try again.', 'OFFER_NOT_OPEN');
    await this.wallets.post(
      {
        kind: status === 'CANCELLED' ? 'OFFER_CANCEL_REFUND' : 'OFFER_EXPIRY_REFUND',
        refType: 'offer',
        refId: offer.id,
        legs: [
          {
            account: 'user_held',
            userId: offer.creatorUserId,
            currency: offer.giveCurrency,
            amount: -offer.remainingGiveAmount,
          },
          {
            account: 'user',
            userId: offer.creatorUserId,
            currency: offer.giveCurrency,
            amount: offer.remainingGiveAmount,
          },
        ],
      },
      m,
    );
  }

  /**
   * The scheduled sweep: every OPEN offer past its expiry is closed as EXPIRED, its escrow refunded and
   * its maker notified, one offer per transaction (each re-checked under its lock, so a take or cancel
   * that got there first wins and the sweep skips it).
   */
  async expireDue(): Promise<ExpirySweepResult> {
    let expired = 0;
    let failed = 0;
    let cursor: { expiresAt: Date; id: number } | null = null;
    for (let batch = 0; batch < EXPIRY_MAX_BATCHES; batch++) {
      const due = await this.repo.findDue(this.clock.now(), EXPIRY_BATCH, cursor);
      for (const { id } of due) {
        try {
          if (await this.expireOne(id)) expired++;
        } catch (err) {
          // one offer that cannot be refunded (e.g. a held balance restored out of line) must not
          // stop every later one from expiring: log it, move past it (the next sweep retries it)
          failed++;
          this.logger.error(
            `offer ${id} could not expire: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
      if (due.length < EXPIRY_BATCH) break;
      cursor = due[due.length - 1];
    }
    if (expired > 0 || failed > 0) this.logger.log(`expired ${expired} offer(s), ${failed} failed`);
    return { expired, failed };
  }

  private expireOne(offerId: number): Promise<boolean> {
    return this.tx.run(async (m) => {
      const now = this.clock.now();
      const offer = await this.repo.findForUpdate(offerId, m);
      if (!offer || effectiveStatus(offer, now) !== 'EXPIRED' || offer.status !== 'OPEN') return false;
      await this.closeWithRefund(offer, 'EXPIRED', now, m, {
        event: AuditEvent.OFFER_EXPIRE,
        action: 'expire offer',
        audit: {},
        notifyTitle: 'Your offer expired',
      });
      return true;
    });
  }

  /** Open offers of others (and the caller's with include_mine), as anyone may see them. */
  async listOpen(userId: number, q: OfferQueryDto, page: Page) {
    const now = this.clock.now();
    const sort = q.sort ?? 'created_at';
    const order = q.order ?? (sort === 'rate' ? 'asc' : 'desc');
    const { rows, total } = await this.reads.run(userId, () =>
      this.repo.listOpen(
        {
          now,
          excludeUserId: q.include_mine === 'true' ? null : userId,
          giveCurrency: q.give_currency,
          sort,
          order: order === 'asc' ? 'ASC' : 'DESC',
        },
        page,
      ),
    );
    return {
      rows: rows.map((o) => (o.creatorUserId === userId ? toOwnOfferDto(o, now) : toOfferDto(o, now))),
      total,
    };
  }

  async listMine(userId: number, q: MyOfferQueryDto, page: Page) {
    const now = this.clock.now();
    const { rows, total } = await this.reads.run(userId, () =>
      this.repo.listByCreator(userId, q.status, now, page),
    );
    return { rows: rows.map((o) => toOwnOfferDto(o, now)), total };
  }

  /** One offer: its creator sees all of it in any status; others only an open offer's public fields. */
  async get(userId: number, offerId: number) {
    const now = this.clock.now();
    const offer = await this.repo.findById(offerId);
    if (!offer) throw new OfferNotFoundError();
    if (offer.creatorUserId === userId) return toOwnOfferDto(offer, now);
    if (effectiveStatus(offer, now) !== 'OPEN') throw new OfferNotFoundError();
    return toOfferDto(offer, now);
  }

  async listTrades(userId: number, q: TradeQueryDto, page: Page) {
    const { from, to } = parseRange(q.from, q.to);
    const { rows, total } = await this.reads.run(userId, () =>
      this.repo.listTrades({ userId, from, to, offerId: q.offer_id }, page),
    );
    return { rows: rows.map((t) => toTradeDto(t, userId)), total };
  }
}

function offerFields(o: OfferEntity): Record<string, unknown> {
  return {
    give_currency: o.giveCurrency,
    give_amount: formatMinor(o.giveAmount),
    want_currency: o.wantCurrency,
    want_amount: formatMinor(o.wantAmount),
    remaining_give_amount: formatMinor(o.remainingGiveAmount),
    rate: roundRate(o.rate),
    min_fill_amount: o.minFillAmount === null ? null : formatMinor(o.minFillAmount),
    expires_at: o.expiresAt ? o.expiresAt.toISOString() : null,
  };
}

function tradeSummary(t: TradeEntity): string {
  return `${formatMinor(t.usdAmount)} USD for ${formatMinor(t.lbpAmount)} LBP at ${roundRate(t.rate)}`;
}
