import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import type { TransactionRunner } from '../database/transaction-runner';
import type { PasswordCheckEntity } from './password-check.entity';
import { MAX_CONCURRENT_PASSWORD_CHECKS, PasswordCheckService } from './password-check.service';
import type { PasswordChecksRepository } from './password-checks.repository';
import type { PasswordHasher } from './password-hasher';

describe('PasswordCheckService', () => {
  const config = { auth: { passwordCheckMaxFailures: 3, passwordCheckLockSeconds: 60 } } as AppConfig;
  let now: Date;
  let row: PasswordCheckEntity | null;
  let verify: jest.Mock<Promise<boolean>, [string, string | null]>;
  let sut: PasswordCheckService;

  beforeEach(() => {
    now = new Date('2026-12-05T10:00:00Z');
    row = null;
    verify = jest.fn((password: string, _hash: string | null) => Promise.resolve(password === 'right'));
    const repo = {
      find: jest.fn(() => Promise.resolve(row ? { ...row } : null)),
      lockRow: jest.fn((userId: number) => {
        row ??= { userId, failures: 0, lastFailureAt: null, lockedUntil: null };
        return Promise.resolve({ ...row });
      }),
      save: jest.fn((r: PasswordCheckEntity) => {
        row = { ...r };
        return Promise.resolve();
      }),
    } as unknown as PasswordChecksRepository;
    const tx = { run: (fn: (m: unknown) => Promise<unknown>) => fn({}) } as unknown as TransactionRunner;
    const clock = { now: () => new Date(now) };
    sut = new PasswordCheckService(config, { verify } as unknown as PasswordHasher, repo, tx, clock);
  });

  it('locks after the configured wrong passwords in a row, and refuses without checking while locked', async () => {
    expect(await sut.stepUp(1, 'w1', 'h')).toEqual({ outcome: 'wrong', attemptsLeft: 2 });
    expect(await sut.stepUp(1, 'w2', 'h')).toEqual({ outcome: 'wrong', attemptsLeft: 1 });
    const lockedUntil = new Date(now.getTime() + 60_000);
    expect(await sut.stepUp(1, 'w3', 'h')).toEqual({ outcome: 'locked', lockedUntil, now: true });
    verify.mockClear();
    expect(await sut.stepUp(1, 'right', 'h')).toEqual({ outcome: 'locked', lockedUntil, now: false });
    expect(verify).not.toHaveBeenCalled();
    now = new Date(lockedUntil.getTime() + 1);
    expect(await sut.stepUp(1, 'right', 'h')).toEqual({ outcome: 'ok' });
  });

  it('a right password resets the count; an old wrong one does not count', async () => {
    await sut.stepUp(1, 'w1', 'h');
    await sut.stepUp(1, 'w2', 'h');
    expect(await sut.stepUp(1, 'right', 'h')).toEqual({ outcome: 'ok' });
    expect(row?.failures).toBe(0);
    await sut.stepUp(1, 'w3', 'h');
    now = new Date(now.getTime() + 60_000);
    expect(await sut.stepUp(1, 'w4', 'h')).toEqual({ outcome: 'wrong', attemptsLeft: 2 });
  });

  it(`runs at most ${MAX_CONCURRENT_PASSWORD_CHECKS} checks per account at once; more is 429`, async () => {
    const release: (() => void)[] = [];
    const slow = () => new Promise<boolean>((r) => release.push(() => r(false)));
    const running = [sut.gate('user:1', slow), sut.gate('user:1', slow)];
    await expect(sut.gate('user:1', slow)).rejects.toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    await expect(sut.gate('user:1', slow)).rejects.toBeInstanceOf(AppError);
    const other = sut.gate('user:2', slow); // other accounts are not affected
    release.forEach((r) => r());
    await Promise.all([...running, other]);
    const again = sut.gate('user:1', () => Promise.resolve(true));
    await expect(again).resolves.toBe(true);
  });
});
