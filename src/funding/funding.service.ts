import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent, type AuditEventType } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { SelfModificationError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { type Currency, formatMinor, lbpToUsd, toMinor } from '../common/money';
import type { Page } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { dayStart } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { NotificationsService } from '../notifications/notifications.service';
import { GuardService } from '../rates/guard.service';
import { UsersService } from '../users/users.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { type Leg, WalletService } from '../wallet/wallet.service';
import type {
  CreateDepositDto,
  CreateWithdrawalDto,
  DepositDto,
  FundingDecisionDto,
  WithdrawalDto,
} from './dto/funding.dto';
import { type FundingDto, toFundingDto } from './funding.mapper';
import type { FundingKind, FundingRequestEntity, FundingStatus } from './funding-request.entity';
import {
  DailyLimitExceededError,
  FundingRequestNotFoundError,
  FundingRequestNotPendingError,
  NoValuationError,
} from './funding.errors';
import { type FundingFilter, FundingRepository, PENDING_WITHDRAWAL_HOLDS } from './funding.repository';

export type FundingActor = AuditActor & { id: number };

/** An admin's decision on a pending request. */
export type Decision = 'confirm' | 'complete' | 'reject';

/** What each kind of request does at each step: its audit events, its ledger legs, its words. */
interface KindRules {
  noun: string;
  requested: AuditEventType;
  cancelled: AuditEventType;
  completed: AuditEventType;
  rejected: AuditEventType;
  /** The decision that completes it (a deposit is confirmed, a withdrawal completed). */
  completes: Decision;
  dailyLimit: (c: AppConfig) => bigint;
  /** Legs when it is requested, completed, and when it ends otherwise (rejected, cancelled). */
  onRequest: (r: FundingRequestEntity) => Leg[];
  onComplete: (r: FundingRequestEntity) => Leg[];
  onRelease: (r: FundingRequestEntity) => Leg[];
}

const RULES: Record<FundingKind, KindRules> = {
  DEPOSIT: {
    noun: 'deposit',
    requested: AuditEvent.DEPOSIT_REQUEST,
    cancelled: AuditEvent.DEPOSIT_CANCEL,
    completed: AuditEvent.DEPOSIT_CONFIRM,
    rejected: AuditEvent.DEPOSIT_REJECT,
    completes: 'confirm',
    dailyLimit: (c) => c.funding.depositDailyLimitUsd,
    // nothing moves until an admin confirms the money arrived; then it comes from funding
    onRequest: () => [],
    onComplete: (r) => [
      { account: 'user', userId: r.userId, currency: r.currency, amount: r.amount },
      { account: 'funding', currency: r.currency, amount: -r.amount },
    ],
    onRelease: () => [],
  },
  WITHDRAWAL: {
    noun: 'withdrawal',
    requested: AuditEvent.WITHDRAWAL_REQUEST,
    cancelled: AuditEvent.WITHDRAWAL_CANCEL,
    completed: AuditEvent.WITHDRAWAL_COMPLETE,
    rejected: AuditEvent.WITHDRAWAL_REJECT,
    completes: 'complete',
    dailyLimit: (c) => c.funding.withdrawalDailyLimitUsd,
    // held at once, so it cannot be spent twice; paid out to funding, or released back
    onRequest: (r) => [
      { account: 'user', userId: r.userId, currency: r.currency, amount: -r.amount, field: 'amount' },
      { account: 'user_held', userId: r.userId, currency: r.currency, amount: r.amount },
    ],
    onComplete: (r) => [
      { account: 'user_held', userId: r.userId, currency: r.currency, amount: -r.amount },
      { account: 'funding', currency: r.currency, amount: r.amount },
    ],
    onRelease: (r) => [
      { account: 'user_held', userId: r.userId, currency: r.currency, amount: -r.amount },
      { account: 'user', userId: r.userId, currency: r.currency, amount: r.amount },
    ],
  },
};

/**
 * Deposits and withdrawals: the custodial wallet's doors to the outside. A request moves from
 * PENDING exactly once (a conditional update decides, so two admins deciding at the same moment
 * settle it once); every step's ledger legs (WalletService), notification and audit row commit with
 * it. Daily limits per user and kind value LBP in USD at the guard window's lowest published mid
 * (where LBP is worth the most USD: a pumped reference lets no more through). A confirmed deposit
 * counts toward the user's establishment as a rate contributor (LBP valued at the window's highest
 * mid, where it is worth the least).
 */
@Injectable()
export class FundingService implements OnModuleInit {
  constructor(
    private readonly repo: FundingRepository,
    private readonly wallets: WalletService,
    private readonly guards: GuardService,
    private readonly users: UsersService,
    private readonly webhooks: WebhooksService,
    private readonly idempotency: IdempotencyService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.wallets.addHoldSource({ name: 'pending withdrawals', sql: PENDING_WITHDRAWAL_HOLDS });
  }

  async requestDeposit(
    p: FundingActor,
    dto: CreateDepositDto,
    meta: RequestMeta,
    key?: string,
  ): Promise<DepositDto> {
    const details = { reference: dto.reference ?? null, destination: null };
    return (await this.request(p, 'DEPOSIT', dto, details, meta, key)) as DepositDto;
  }

  async requestWithdrawal(
    p: FundingActor,
    dto: CreateWithdrawalDto,
    meta: RequestMeta,
    key?: string,
  ): Promise<WithdrawalDto> {
    const details = { reference: null, destination: dto.destination };
    return (await this.request(p, 'WITHDRAWAL', dto, details, meta, key)) as WithdrawalDto;
  }

  list(f: FundingFilter, page: Page): Promise<{ rows: FundingRequestEntity[]; total: number }> {
    return this.repo.list(f, page);
  }

  /**
   * A new PENDING request, within the user's daily limit (the user's requests are serialized on
   * their wallet row, so parallel requests cannot both fit the last of it). A withdrawal's amount is
   * held at once (422 INSUFFICIENT_BALANCE when short).
   */
  private async request(
    p: FundingActor,
    kind: FundingKind,
    dto: { currency: Currency; amount: number },
    details: Pick<FundingRequestEntity, 'reference' | 'destination'>,
    meta: RequestMeta,
    key: string | undefined,
  ): Promise<FundingDto> {
    const rules = RULES[kind];
    const amount = toMinor(dto.amount);
    // read before the transaction (see ReferenceRateService): LBP amounts are valued at it
    const valuation = await this.guards.valuationRate();
    const result = await this.idempotency.execute(
      { userId: p.id, key, request: { route: `${rules.noun}-request`, ...dto, ...details } },
      async (m) => {
        const now = this.clock.now();
        await this.wallets.lockUser(p.id, m);
        await this.checkDailyLimit(p.id, kind, dto.currency, amount, valuation, now, m);
        const row = await this.repo.insert(
          {
            kind,
            userId: p.id,
            currency: dto.currency,
            amount,
            ...details,
            status: 'PENDING',
            note: null,
            decidedBy: null,
            decidedAt: null,
            createdAt: now,
            updatedAt: now,
          },
          m,
        );
        const legs = rules.onRequest(row);
        if (legs.length > 0)
          await this.wallets.post({ kind: `${kind}_HOLD`, refType: rules.noun, refId: row.id, legs }, m);
        // admins' webhooks: a request waits for their decision
        await this.webhooks.enqueuePlatform(
          kind === 'DEPOSIT' ? 'deposit.requested' : 'withdrawal.requested',
          { ...toFundingDto(row), user_id: p.id },
          m,
        );
        await this.audit.record(
          {
            event: rules.requested,
            action: `request ${rules.noun}`,
            success: true,
            statusCode: 201,
            message: `${rules.noun} ${row.id}: ${formatMinor(amount)} ${dto.currency}`,
            actor: p,
            targetUserId: p.id,
            metadata: {
              [`${rules.noun}_id`]: row.id,
              ...this.auditFields(row),
              idempotency_key: key ?? null,
            },
            request: meta,
          },
          m,
        );
        return { status: 201, body: toFundingDto(row) };
      },
    );
    return result.body;
  }

  /**
   * The day's pending and completed requests of the kind, with this one, in USD (LBP valued at
   * `valuation`, the guard window's lowest mid).
   */
  private async checkDailyLimit(
    userId: number,
    kind: FundingKind,
    currency: Currency,
    amount: bigint,
    valuation: number | null,
    now: Date,
    m: EntityManager,
  ): Promise<void> {
    const before = await this.repo.totalsSince(userId, kind, dayStart(now), m);
    const after = { ...before, [currency]: before[currency] + amount };
    let micros: bigint | null = null;
    if (after.LBP > 0n) {
      if (valuation === null) throw new NoValuationError('LBP');
      // rounded down: LBP is worth a little more USD, never less
      micros = BigInt(Math.floor(valuation * 1e6));
    }
    const inUsd = (t: Record<Currency, bigint>): bigint =>
      t.USD + (micros === null ? 0n : lbpToUsd(t.LBP, micros));
    const limit = RULES[kind].dailyLimit(this.config);
    if (inUsd(after) > limit) throw new DailyLimitExceededError(kind, limit, inUsd(before));
  }

  /** The user cancels one of their PENDING requests (a withdrawal's hold is released). */
  cancel(p: FundingActor, kind: FundingKind, id: number, meta: RequestMeta): Promise<FundingDto> {
    const rules = RULES[kind];
    return this.tx.run(async (m) => {
      const row = await this.repo.find(id, kind, m);
      if (!row || row.userId !== p.id) throw new FundingRequestNotFoundError(kind);
      const after = await this.settle(
        row,
        'CANCELLED',
        null,
        { actor: p, event: rules.cancelled, note: null, meta },
        m,
      );
      return toFundingDto(after);
    });
  }

  /**
   * An admin's decision on a PENDING request (never their own: money for an admin's own account needs
   * another admin): `confirm` (deposit) / `complete` (withdrawal) moves the money, `reject` releases it.
   */
  async decide(
    admin: FundingActor,
    kind: FundingKind,
    id: number,
    decision: Decision,
    dto: FundingDecisionDto,
    meta: RequestMeta,
    key?: string,
  ): Promise<FundingDto> {
    const rules = RULES[kind];
    const completes = decision === rules.completes;
    // read before the transaction: a confirmed LBP deposit counts toward establishment where LBP is
    // worth the least USD (GuardService.establishmentRate)
    const establishAt = kind === 'DEPOSIT' && completes ? await this.guards.establishmentRate() : null;
    const result = await this.idempotency.execute(
      { userId: admin.id, key, request: { route: `${rules.noun}-${decision}`, id, note: dto.note } },
      async (m) => {
        const row = await this.repo.find(id, kind, m);
        if (!row) throw new FundingRequestNotFoundError(kind);
        if (row.userId === admin.id)
          throw new SelfModificationError(rules.noun, `Another admin must decide on your own ${rules.noun}.`);
        const settled = await this.settle(
          row,
          completes ? 'COMPLETED' : 'REJECTED',
          admin.id,
          { actor: admin, event: completes ? rules.completed : rules.rejected, note: dto.note ?? null, meta },
          m,
        );
        if (kind === 'DEPOSIT' && completes) {
          const usd =
            row.currency === 'USD'
              ? row.amount
              : establishAt === null
                ? 0n // no reference to value LBP at: it does not count toward establishment
                : lbpToUsd(row.amount, BigInt(Math.ceil(establishAt * 1e6)));
          await this.users.addConfirmedDeposit(row.userId, usd, m);
        }
        return { status: 200, body: toFundingDto(settled) };
      },
    );
    return result.body;
  }

  /** PENDING → `status`, once; then its legs, the user's notification and the audit row. */
  private async settle(
    row: FundingRequestEntity,
    status: FundingStatus,
    decidedBy: number | null,
    how: { actor: FundingActor; event: AuditEventType; note: string | null; meta: RequestMeta },
    m: EntityManager,
  ): Promise<FundingRequestEntity> {
    const rules = RULES[row.kind];
    if (row.status !== 'PENDING') throw new FundingRequestNotPendingError(row.kind, row.status);
    const now = this.clock.now();
    const patch = {
      status,
      note: how.note,
      decidedBy,
      decidedAt: decidedBy === null ? null : now,
      updatedAt: now,
    };
    if (!(await this.repo.settle(row.id, patch, m))) {
      const current = await this.repo.findLatest(row.id, row.kind, m);
      throw new FundingRequestNotPendingError(row.kind, current?.status ?? 'CANCELLED');
    }
    const after: FundingRequestEntity = { ...row, ...patch };
    const legs = status === 'COMPLETED' ? rules.onComplete(after) : rules.onRelease(after);
    if (legs.length > 0) {
      await this.wallets.post(
        {
          kind: `${row.kind}_${status === 'COMPLETED' ? 'COMPLETE' : 'RELEASE'}`,
          refType: rules.noun,
          refId: row.id,
          legs,
        },
        m,
      );
    }
    const amount = `${formatMinor(row.amount)} ${row.currency}`;
    if (decidedBy !== null) {
      const done = status === 'COMPLETED';
      await this.notifications.notify(
        {
          userId: row.userId,
          eventType: `${row.kind}_${status}`,
          title: `Your ${rules.noun} was ${done ? (row.kind === 'DEPOSIT' ? 'confirmed' : 'paid out') : 'rejected'}`,
          message:
            `${rules.noun.replace(/^./, (c) => c.toUpperCase())} #${row.id} of ${amount}: ` +
            (done
              ? row.kind === 'DEPOSIT'
                ? 'credited to your wallet.'
                : 'paid out from your held balance.'
              : row.kind === 'DEPOSIT'
                ? 'nothing was credited.'
                : 'the amount is available again.') +
            (how.note ? ` Note: ${how.note}` : ''),
          refType: rules.noun,
          refId: row.id,
        },
        m,
      );
    }
    await this.audit.record(
      {
        event: how.event,
        action: `${status.toLowerCase()} ${rules.noun}`,
        success: true,
        statusCode: 200,
        message: `${rules.noun} ${row.id}: ${amount} -> ${status}`,
        actor: how.actor,
        targetUserId: row.userId,
        metadata: { [`${rules.noun}_id`]: row.id, ...this.auditFields(after), note: how.note },
        request: how.meta,
      },
      m,
    );
    return after;
  }

  private auditFields(r: FundingRequestEntity): Record<string, unknown> {
    return {
      currency: r.currency,
      amount: formatMinor(r.amount),
      status: r.status,
      ...(r.reference ? { reference: r.reference } : {}),
      ...(r.destination ? { destination: r.destination } : {}),
    };
  }
}
