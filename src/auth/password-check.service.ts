import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { RateLimitedError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { PasswordChecksRepository } from './password-checks.repository';
import { PasswordHasher } from './password-hasher';

/** bcrypt runs for one account at most this many times at once (per instance); more is 429. */
export const MAX_CONCURRENT_PASSWORD_CHECKS = 2;

export type StepUpResult =
  | { outcome: 'ok' }
  | { outcome: 'wrong'; attemptsLeft: number }
  /** `now`: this wrong password locked it; otherwise it was locked already and nothing was checked. */
  | { outcome: 'locked'; lockedUntil: Date; now: boolean };

/**
 * Password checks with their abuse limits. Every check of an account's password (login and the
 * step-ups) goes through `gate`, so guesses at one account cannot occupy bcrypt's threads in
 * parallel. The step-up checks (POST /auth/fresh and PUT /user/password, reachable with a stolen
 * access token) also lock after PASSWORD_CHECK_MAX_FAILURES wrong passwords in a row, for
 * PASSWORD_CHECK_LOCK_SECONDS. Login is not locked (anyone could then lock anyone out); it has its
 * rate limit per IP and per user name, which these routes share.
 */
@Injectable()
export class PasswordCheckService {
  private readonly inFlight = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly hasher: PasswordHasher,
    private readonly repo: PasswordChecksRepository,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  /** Runs `check` unless MAX_CONCURRENT_PASSWORD_CHECKS are running for `account` already (429). */
  async gate<T>(account: string, check: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(account) ?? 0;
    if (running >= MAX_CONCURRENT_PASSWORD_CHECKS) throw new RateLimitedError(1);
    this.inFlight.set(account, running + 1);
    try {
      return await check();
    } finally {
      const left = (this.inFlight.get(account) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(account);
      else this.inFlight.set(account, left);
    }
  }

  /** A login's password check (the account may not exist: the same work against a dummy hash). */
  verifyLogin(account: string, password: string, hash: string | null): Promise<boolean> {
    return this.gate(account, () => this.hasher.verify(password, hash));
  }

  /** A step-up check of a known account, with the lock. */
  async stepUp(userId: number, password: string, hash: string): Promise<StepUpResult> {
    const before = await this.repo.find(userId);
    const now = this.clock.now();
    if (before?.lockedUntil && before.lockedUntil.getTime() > now.getTime())
      return { outcome: 'locked', lockedUntil: before.lockedUntil, now: false };
    const ok = await this.gate(`user:${userId}`, () => this.hasher.verify(password, hash));
    if (ok) {
      if (before && before.failures > 0) await this.reset(userId);
      return { outcome: 'ok' };
    }
    return this.countFailure(userId);
  }

  private reset(userId: number): Promise<void> {
    return this.tx.run(async (m) => {
      const row = await this.repo.lockRow(userId, m);
      await this.repo.save({ ...row, failures: 0, lastFailureAt: null }, m);
    });
  }

  private countFailure(userId: number): Promise<StepUpResult> {
    const { passwordCheckMaxFailures: max, passwordCheckLockSeconds } = this.config.auth;
    const lockMs = passwordCheckLockSeconds * 1000;
    return this.tx.run(async (m): Promise<StepUpResult> => {
      const row = await this.repo.lockRow(userId, m);
      const now = this.clock.now();
      if (row.lockedUntil && row.lockedUntil.getTime() > now.getTime())
        return { outcome: 'locked', lockedUntil: row.lockedUntil, now: false };
      const recent = row.lastFailureAt !== null && now.getTime() - row.lastFailureAt.getTime() < lockMs;
      const failures = (recent ? row.failures : 0) + 1;
      if (failures >= max) {
        const lockedUntil = new Date(now.getTime() + lockMs);
        await this.repo.save({ ...row, failures: 0, lastFailureAt: now, lockedUntil }, m);
        return { outcome: 'locked', lockedUntil, now: true };
      }
      await this.repo.save({ ...row, failures, lastFailureAt: now }, m);
      return { outcome: 'wrong', attemptsLeft: max - failures };
    });
  }
}
