import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

const RETRYABLE_MYSQL = new Set([1213 /* deadlock */, 1205 /* lock wait timeout */]);
const MAX_ATTEMPTS = 5;

function mysqlErrno(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { errno?: unknown; driverError?: { errno?: unknown } };
  const n = e.errno ?? e.driverError?.errno;
  return typeof n === 'number' ? n : undefined;
}

/**
 * The one way services open a transaction.
 * - MySQL/MariaDB: a pooled connection per transaction; deadlocks and lock timeouts re-run the whole
 *   function (so it must be free of outside side effects until it returns).
 * - SQLite: TypeORM shares a single connection, so concurrent transactions would interleave on it.
 *   Writers are queued here and run one at a time, which is also what SQLite itself allows.
 */
@Injectable()
export class TransactionRunner {
  private readonly logger = new Logger(TransactionRunner.name);
  private readonly sqlite: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  /** Hooks registered by afterCommit(), per open transaction. */
  private readonly afterCommitHooks = new WeakMap<EntityManager, (() => void)[]>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
  }

  run<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    if (this.sqlite) {
      this.waiting += 1;
      const result = this.queue
        .then(() => this.transaction(fn))
        .finally(() => {
          this.waiting -= 1;
        });
      this.queue = result.catch(() => undefined);
      return result;
    }
    return this.runWithRetry(fn);
  }

  /** SQLite: transactions running or waiting for the one writer (for the pool gauge). */
  get queued(): number {
    return this.waiting;
  }

  /**
   * Runs `hook` once the transaction of `m` has committed (never if it rolls back; a retried attempt
   * drops the hooks of the failed one). For in-process state that must follow committed data, such
   * as caches: invalidating before the commit would let a concurrent reader cache the old data again.
   */
  afterCommit(m: EntityManager, hook: () => void): void {
    const hooks = this.afterCommitHooks.get(m);
    if (!hooks) throw new Error('afterCommit() needs a transaction opened by TransactionRunner');
    hooks.push(hook);
  }

  /** Uses the caller's transaction when there is one, else opens one. */
  within<T>(m: EntityManager | undefined, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return m ? fn(m) : this.run(fn);
  }

  private async transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    const hooks: (() => void)[] = [];
    const result = await this.dataSource.transaction((m) => {
      this.afterCommitHooks.set(m, hooks);
      return fn(m);
    });
    for (const hook of hooks) {
      try {
        hook();
      } catch (err) {
        // the data is committed: the caller's work succeeded whatever a hook does
        this.logger.error(`after-commit hook failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return result;
  }

  private async runWithRetry<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(fn);
      } catch (err) {
        const errno = mysqlErrno(err);
        if (errno === undefined || !RETRYABLE_MYSQL.has(errno) || attempt >= MAX_ATTEMPTS) throw err;
        this.logger.warn(`transaction retried after MySQL error ${errno} (attempt ${attempt})`);
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.floor(Math.random() * 10)));
      }
    }
  }
}
