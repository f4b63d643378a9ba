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

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
  }

  run<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    if (this.sqlite) {
      const result = this.queue.then(() => this.dataSource.transaction(fn));
      this.queue = result.catch(() => undefined);
      return result;
    }
    return this.runWithRetry(fn);
  }

  /** Uses the caller's transaction when there is one, else opens one. */
  within<T>(m: EntityManager | undefined, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return m ? fn(m) : this.run(fn);
  }

  private async runWithRetry<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(fn);
      } catch (err) {
        const errno = mysqlErrno(err);
        if (errno === undefined || !RETRYABLE_MYSQL.has(errno) || attempt >= MAX_ATTEMPTS) throw err;
        this.logger.warn(`transaction retried after MySQL error ${errno} (attempt ${attempt})`);
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.floor(Math.random() * 10)));
      }
    }
  }
}
