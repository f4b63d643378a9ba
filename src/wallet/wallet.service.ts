import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import type { Principal } from '../auth/principal';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { BadRequestError, NotFoundError, SelfModificationError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { CURRENCIES, type Currency, formatMinor, toMinor } from '../common/money';
import type { Page } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import type { AdjustWalletDto, WalletAdjustedDto } from './dto/wallet.dto';
import type { LedgerAccount, LedgerEntryEntity } from './ledger-entry.entity';
import { toWalletDto } from './wallet.mapper';
import type { WalletEntity } from './wallet.entity';
import { BalanceLimitError, InsufficientBalanceError } from './wallet.errors';
import { balanceColumn, type BalanceColumn, balanceOf, WalletRepository } from './wallet.repository';

export interface Leg {
  account: LedgerAccount;
  userId?: number;
  currency: Currency;
  /** Signed minor units. */
  amount: bigint;
  /** Request field to name when this debit is short (for the 422 details). */
  field?: string;
}

export interface Journal {
  kind: string;
  refType?: string | null;
  refId?: number | null;
  legs: Leg[];
}

export interface PostedJournal {
  journalId: string;
  /** Each touched user's balances after the journal. */
  balances: Map<number, Balances>;
}

export interface Balances {
  usdAvailable: bigint;
  lbpAvailable: bigint;
  usdHeld: bigint;
  lbpHeld: bigint;
}

export interface LedgerCheck {
  ok: boolean;
  currencies: Record<string, string>;
  mismatches: {
    user_id: number | null;
    check: string;
    currency?: string;
    expected?: string;
    actual?: string;
  }[];
}

/**
 * An invariant another feature adds to the ledger check. It runs inside verify()'s transaction and
 * reports at most `limit` mismatches.
 */
export type LedgerInvariant = (m: EntityManager, limit: number) => Promise<LedgerCheck['mismatches']>;

/**
 * What holds money in users' held balances, as SQL selecting (user_id, usd, lbp) rows in minor units:
 * the marketplace's open offers, the pending withdrawals. verify() checks that every wallet's held
 * balance equals the sum of its holds.
 */
export interface HoldSource {
  name: string;
  sql: string;
}

export const ZERO_BALANCES: Balances = { usdAvailable: 0n, lbpAvailable: 0n, usdHeld: 0n, lbpHeld: 0n };

/** verify() reports at most this many wallets (the first by user id). */
const MAX_REPORTED_MISMATCHES = 1000;

const isUserAccount = (a: LedgerAccount): boolean => a === 'user' || a === 'user_held';

/** Balances and the double-entry ledger; every balance change goes through post(). */
@Injectable()
export class WalletService {
  private readonly invariants: LedgerInvariant[] = [];
  private readonly holdSources: HoldSource[] = [];

  constructor(
    private readonly repo: WalletRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly idempotency: IdempotencyService,
    private readonly tx: TransactionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Books one journal inside the caller's transaction: each user's balances move in one conditional
   * update (users in id order, so concurrent journals lock rows in the same order), then all legs are
   * written in one insert. Throws InsufficientBalanceError when a debit is short (BalanceLimitError
   * when a credit would overflow); the caller's transaction then rolls back.
   */
  async post(journal: Journal, m: EntityManager): Promise<PostedJournal> {
    for (const c of CURRENCIES) {
      const sum = journal.legs.filter((l) => l.currency === c).reduce((a, l) => a + l.amount, 0n);
      if (sum !== 0n) throw new Error(`journal ${journal.kind} does not balance in ${c}: ${sum}`);
    }
    const legs = journal.legs.filter((l) => l.amount !== 0n);
    const now = this.clock.now();
    const journalId = randomUUID();
    const balances = new Map<number, Balances>();
    const after = new Map<Leg, bigint>();
    const byUser = new Map<number, Leg[]>();
    for (const leg of legs) {
      if (!isUserAccount(leg.account)) continue;
      if (leg.userId === undefined) throw new Error('user leg without a user');
      byUser.set(leg.userId, [...(byUser.get(leg.userId) ?? []), leg]);
    }
    for (const userId of [...byUser.keys()].sort((a, b) => a - b)) {
      const userLegs = byUser.get(userId) ?? [];
      const deltas = new Map<BalanceColumn, bigint>();
      for (const leg of userLegs) {
        const col = balanceColumn(leg.currency, leg.account === 'user_held');
        deltas.set(col, (deltas.get(col) ?? 0n) + leg.amount);
      }
      const wallet = await this.repo.applyDeltas(userId, deltas, now, m);
      if (wallet === null) throw await this.refusal(userId, userLegs, deltas, m);
      balances.set(userId, toBalances(wallet));
      // balance_after of each leg: replay the user's legs in order up to the final balances
      const running = new Map<BalanceColumn, bigint>();
      for (const [col, delta] of deltas) running.set(col, balanceOf(wallet, col) - delta);
      for (const leg of userLegs) {
        const col = balanceColumn(leg.currency, leg.account === 'user_held');
        const value = (running.get(col) ?? 0n) + leg.amount;
        running.set(col, value);
        after.set(leg, value);
      }
    }
    await this.repo.insertEntries(
      legs.map((l) => ({
        journalId,
        account: l.account,
        userId: isUserAccount(l.account) ? (l.userId ?? null) : null,
        currency: l.currency,
        amount: l.amount,
        balanceAfter: after.get(l) ?? null,
        kind: journal.kind,
        refType: journal.refType ?? null,
        refId: journal.refId ?? null,
        createdAt: now,
      })),
      m,
    );
    return { journalId, balances };
  }

  /** Why a user's conditional update matched nothing: the first short debit, else an overflowing credit. */
  private async refusal(
    userId: number,
    legs: Leg[],
    deltas: Map<BalanceColumn, bigint>,
    m: EntityManager,
  ): Promise<Error> {
    const wallet = await this.repo.findWalletLatest(userId, m);
    if (!wallet) return new NotFoundError('User not found.', 'USER_NOT_FOUND');
    for (const leg of legs) {
      const col = balanceColumn(leg.currency, leg.account === 'user_held');
      const delta = deltas.get(col) ?? 0n;
      if (delta < 0n && balanceOf(wallet, col) < -delta)
        return new InsufficientBalanceError(leg.currency, leg.field);
    }
    const over = legs.find(
      (l) => (deltas.get(balanceColumn(l.currency, l.account === 'user_held')) ?? 0n) > 0n,
    );
    return new BalanceLimitError(over?.currency ?? legs[0].currency);
  }

  /** A new user's wallet, with the configured starting balances booked from funding. */
  async open(userId: number, m: EntityManager): Promise<void> {
    await this.repo.insertWallet(userId, this.clock.now(), m);
    const legs: Leg[] = [];
    const { startingBalanceUsd: usd, startingBalanceLbp: lbp } = this.config.money;
    if (usd > 0n)
      legs.push(
        { account: 'user', userId, currency: 'USD', amount: usd },
        { account: 'funding', currency: 'USD', amount: -usd },
      );
    if (lbp > 0n)
      legs.push(
        { account: 'user', userId, currency: 'LBP', amount: lbp },
        { account: 'funding', currency: 'LBP', amount: -lbp },
      );
    if (legs.length > 0)
      await this.post({ kind: 'STARTING_BALANCE', refType: 'user', refId: userId, legs }, m);
  }

  /**
   * Serializes a user's requests that check something across rows before they write (a daily limit):
   * the wallet row stays locked until the caller's transaction ends.
   */
  async lockUser(userId: number, m: EntityManager): Promise<void> {
    if (!(await this.repo.lockWallet(userId, m)))
      throw new NotFoundError('User not found.', 'USER_NOT_FOUND');
  }

  async balances(userId: number, m?: EntityManager): Promise<Balances> {
    const w = await this.repo.findWallet(userId, m);
    return w ? toBalances(w) : ZERO_BALANCES;
  }

  /** The caller's balances: as read with the session (`@Auth({ wallet: true })`), else read now. */
  callerBalances(p: Principal): Promise<Balances> {
    if (p.wallet === undefined) return this.balances(p.id);
    return Promise.resolve(p.wallet ? toBalances(p.wallet) : ZERO_BALANCES);
  }

  async balancesOf(userIds: number[]): Promise<Map<number, Balances>> {
    const rows = await this.repo.findWallets(userIds);
    return new Map(rows.map((w) => [w.userId, toBalances(w)]));
  }

  ledger(userId: number, page: Page): Promise<{ rows: LedgerEntryEntity[]; total: number }> {
    return this.repo.listUserEntries(userId, page);
  }

  /** POST /admin/users/:id/wallet/adjust, honouring an Idempotency-Key. */
  async adjustIdempotently(
    admin: AuditActor & { id: number },
    userId: number,
    dto: AdjustWalletDto,
    meta: RequestMeta,
    key: string | undefined,
  ): Promise<WalletAdjustedDto> {
    // money for an admin's own account needs another admin's decision
    if (admin.id === userId)
      throw new SelfModificationError('wallet', 'Another admin must make this adjustment.');
    const amount = toMinor(dto.amount);
    const result = await this.idempotency.execute(
      { userId: admin.id, key, request: { route: 'admin-wallet-adjust', user_id: userId, ...dto } },
      async (m) => {
        const { balances, entryId } = await this.adjust(
          admin,
          userId,
          dto.currency,
          amount,
          dto.reason,
          meta,
          m,
        );
        const body: WalletAdjustedDto = {
          message: 'Wallet adjusted',
          user_id: userId,
          ...toWalletDto(balances),
          ledger_entry_id: entryId,
        };
        return { status: 200, body };
      },
    );
    return result.body;
  }

  /** Admin adjustment against funding, inside the caller's transaction; never below zero. */
  private async adjust(
    actor: AuditActor & { id: number },
    userId: number,
    currency: Currency,
    amount: bigint,
    reason: string,
    meta: RequestMeta,
    m: EntityManager,
  ): Promise<{ balances: Balances; entryId: number }> {
    if (amount === 0n)
      throw new BadRequestError('amount must not be zero.', 'VALIDATION_FAILED', [
        { field: 'amount', message: 'must not be 0' },
      ]);
    if (!(await this.repo.findWallet(userId, m)))
      throw new NotFoundError('User not found.', 'USER_NOT_FOUND');
    const posted = await this.post(
      {
        kind: 'ADMIN_ADJUSTMENT',
        refType: 'user',
        refId: userId,
        legs: [
          { account: 'user', userId, currency, amount, field: 'amount' },
          { account: 'funding', currency, amount: -amount },
        ],
      },
      m,
    );
    await this.audit.record(
      {
        event: AuditEvent.ADMIN_WALLET_ADJUST,
        action: 'adjust wallet',
        success: true,
        statusCode: 200,
        message: `${currency} ${formatMinor(amount)}: ${reason}`.slice(0, 500),
        actor,
        targetUserId: userId,
        metadata: { currency, amount: formatMinor(amount), reason, journal_id: posted.journalId },
        request: meta,
      },
      m,
    );
    const entryId = await this.repo.findUserEntryId(posted.journalId, userId, m);
    return { balances: posted.balances.get(userId) ?? ZERO_BALANCES, entryId };
  }

  /** Adds an invariant to every verify() from now on. */
  addInvariant(check: LedgerInvariant): void {
    this.invariants.push(check);
  }

  /** Adds what holds money in held balances (checked by verify() as held = sum of holds). */
  addHoldSource(source: HoldSource): void {
    this.holdSources.push(source);
  }

  /**
   * The ledger invariants, checked live (inside the caller's transaction when given one, e.g. a restore
   * before it commits) in one transaction (one consistent snapshot on MySQL, so
   * transactions committing meanwhile cannot show as false mismatches), aggregated in SQL.
   */
  async verify(m?: EntityManager): Promise<LedgerCheck> {
    const { sums, wallets, extra } = await this.tx.within(m, async (tm) => {
      const found = {
        sums: await this.repo.currencySums(tm),
        wallets: await this.repo.walletMismatches(tm, MAX_REPORTED_MISMATCHES),
        extra: [] as LedgerCheck['mismatches'],
      };
      const holds = await this.repo.holdMismatches(
        tm,
        this.holdSources.map((h) => h.sql),
        MAX_REPORTED_MISMATCHES,
      );
      for (const h of holds) {
        found.extra.push({
          user_id: h.userId,
          check: 'held_equals_holds',
          currency: h.currency,
          expected: formatMinor(h.holds),
          actual: formatMinor(h.held),
        });
      }
      for (const check of this.invariants) found.extra.push(...(await check(tm, MAX_REPORTED_MISMATCHES)));
      return found;
    });
    const mismatches: LedgerCheck['mismatches'] = [];
    const currencies: Record<string, string> = Object.fromEntries(CURRENCIES.map((c) => [c, '0.00']));
    for (const s of sums) {
      currencies[s.currency] = formatMinor(s.total);
      if (s.total !== 0n) {
        mismatches.push({
          user_id: null,
          check: 'currency_sum_zero',
          currency: s.currency,
          expected: '0.00',
          actual: formatMinor(s.total),
        });
      }
    }
    const checks: [BalanceColumn, LedgerAccount, Currency][] = [
      ['usd_available', 'user', 'USD'],
      ['lbp_available', 'user', 'LBP'],
      ['usd_held', 'user_held', 'USD'],
      ['lbp_held', 'user_held', 'LBP'],
    ];
    for (const w of wallets) {
      for (const [column, account, currency] of checks) {
        const balance = w.balances[column];
        if (balance < 0n) {
          mismatches.push({
            user_id: w.userId,
            check: `${account}_non_negative`,
            currency,
            expected: '>= 0',
            actual: formatMinor(balance),
          });
        }
        if (w.ledger[column] !== balance) {
          mismatches.push({
            user_id: w.userId,
            check: `${account}_equals_ledger`,
            currency,
            expected: formatMinor(w.ledger[column]),
            actual: formatMinor(balance),
          });
        }
      }
    }
    mismatches.push(...extra);
    return { ok: mismatches.length === 0, currencies, mismatches };
  }
}

function toBalances(w: WalletEntity): Balances {
  return {
    usdAvailable: w.usdAvailable,
    lbpAvailable: w.lbpAvailable,
    usdHeld: w.usdHeld,
    lbpHeld: w.lbpHeld,
  };
}
