import type { DataSource, EntityManager } from 'typeorm';
import { TransactionRunner } from './transaction-runner';

/** A DataSource whose transaction() hands out a new manager per attempt and records commit order. */
function fakeDataSource(type: 'mysql' | 'better-sqlite3', log: string[]) {
  return {
    options: { type },
    transaction: async <T>(fn: (m: EntityManager) => Promise<T>): Promise<T> => {
      const m = {} as EntityManager;
      const result = await fn(m);
      log.push('commit');
      return result;
    },
  } as unknown as DataSource;
}

describe('TransactionRunner.afterCommit', () => {
  for (const type of ['mysql', 'better-sqlite3'] as const) {
    it(`${type}: hooks run after the commit, in order, and not when the transaction fails`, async () => {
      const log: string[] = [];
      const runner = new TransactionRunner(fakeDataSource(type, log));
      await runner.run(async (m) => {
        runner.afterCommit(m, () => log.push('hook 1'));
        await runner.within(m, (inner) => {
          runner.afterCommit(inner, () => log.push('hook 2'));
          return Promise.resolve();
        });
        log.push('work done');
      });
      expect(log).toEqual(['work done', 'commit', 'hook 1', 'hook 2']);
      log.length = 0;
      await expect(
        runner.run((m) => {
          runner.afterCommit(m, () => log.push('hook of a failed transaction'));
          return Promise.reject(new Error('refused'));
        }),
      ).rejects.toThrow('refused');
      expect(log).toEqual([]);
    });
  }

  it('a retried attempt (deadlock) drops the hooks of the failed one', async () => {
    const log: string[] = [];
    const runner = new TransactionRunner(fakeDataSource('mysql', log));
    let attempt = 0;
    await runner.run((m) => {
      attempt += 1;
      runner.afterCommit(m, () => log.push(`hook of attempt ${attempt}`));
      if (attempt === 1) return Promise.reject(Object.assign(new Error('deadlock'), { errno: 1213 }));
      return Promise.resolve();
    });
    expect(log).toEqual(['commit', 'hook of attempt 2']);
  });

  it('a failing hook does not turn the committed work into an error; outside a transaction it is refused', async () => {
    const log: string[] = [];
    const runner = new TransactionRunner(fakeDataSource('mysql', log));
    const value = await runner.run((m) => {
      runner.afterCommit(m, () => {
        throw new Error('cache gone');
      });
      runner.afterCommit(m, () => log.push('next hook'));
      return Promise.resolve(42);
    });
    expect(value).toBe(42);
    expect(log).toEqual(['commit', 'next hook']);
    expect(() => runner.afterCommit({} as EntityManager, () => undefined)).toThrow(/TransactionRunner/);
  });
});
