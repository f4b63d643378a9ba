import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createPool, type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2/promise';

/**
 * The database layer of the benchmark's bare baselines (bench/*-server.ts): the driver itself
 * (mysql2's text protocol, as TypeORM uses it, or its prepared statements where ours uses them
 * (the session read); or better-sqlite3), a transaction helper, and an
 * optional statement log in the same JSON-lines shape as the API's DB_STATEMENT_LOG, so the
 * benchmark can check that a baseline runs the statements our server runs.
 */
export type Dialect = 'mysql' | 'sqlite';

export interface Scope {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** `all` as a prepared statement (mysql2's execute; SQLite prepares every statement anyway). */
  prepared<T>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<{ insertId: number; affected: number }>;
}

export interface BareDb {
  readonly dialect: Dialect;
  /** Statements outside a transaction, recorded into `log` when given. */
  scope(log: string[] | null): Scope;
  /** `fn` in one transaction (committed, or rolled back when it throws). */
  tx<T>(log: string[] | null, fn: (s: Scope) => Promise<T>): Promise<T>;
  /** Appends a request's statements to BASELINE_STATEMENT_LOG (when set). */
  writeLog(method: string, route: string, status: number, log: string[] | null): void;
  /** A fresh statement list for a request, or null when nothing is recorded. */
  newLog(): string[] | null;
}

export function openBareDb(env: NodeJS.ProcessEnv): BareDb {
  const logFile = env.BASELINE_STATEMENT_LOG || null;
  if (logFile) mkdirSync(dirname(logFile), { recursive: true });
  const common = {
    newLog: () => (logFile ? [] : null),
    writeLog(method: string, route: string, status: number, log: string[] | null) {
      if (!logFile || !log) return;
      const statements = log.map((sql) => ({ sql, params: [] }));
      appendFileSync(logFile, `${JSON.stringify({ method, route, status, statements })}\n`);
    },
  };
  if ((env.DB_TYPE ?? 'sqlite') === 'sqlite') return { ...common, ...sqlite(env) };
  return { ...common, ...mysql(env) };
}

function mysql(env: NodeJS.ProcessEnv): Pick<BareDb, 'dialect' | 'scope' | 'tx'> {
  const pool: Pool = createPool({
    host: env.DB_HOST,
    port: Number(env.DB_PORT ?? 3306),
    user: env.DB_USER,
    password: env.DB_PASSWORD,
    database: env.DB_NAME,
    connectionLimit: 20,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    // as the API's pool (data-source-options.ts): no stack trace captured per query
    trace: false,
  });
  const on = (c: Pool | PoolConnection, log: string[] | null): Scope => ({
    dialect: 'mysql',
    async all<T>(sql: string, params: unknown[] = []) {
      log?.push(sql);
      const [rows] = await c.query(sql, params);
      return rows as T[];
    },
    async prepared<T>(sql: string, params: unknown[] = []) {
      log?.push(sql);
      const [rows] = await c.execute(sql, params as Parameters<Pool['execute']>[1]);
      return rows as T[];
    },
    async run(sql: string, params: unknown[] = []) {
      log?.push(sql);
      const [res] = await c.query<ResultSetHeader>(sql, params);
      return { insertId: Number(res.insertId), affected: res.affectedRows };
    },
  });
  return {
    dialect: 'mysql',
    scope: (log) => on(pool, log),
    async tx(log, fn) {
      const conn = await pool.getConnection();
      try {
        log?.push('START TRANSACTION');
        await conn.query('START TRANSACTION');
        try {
          const out = await fn(on(conn, log));
          log?.push('COMMIT');
          await conn.query('COMMIT');
          return out;
        } catch (err) {
          log?.push('ROLLBACK');
          await conn.query('ROLLBACK');
          throw err;
        }
      } finally {
        conn.release();
      }
    },
  };
}

function sqlite(env: NodeJS.ProcessEnv): Pick<BareDb, 'dialect' | 'scope' | 'tx'> {
  const db = new Database(env.SQLITE_PATH ?? 'data/bench.sqlite');
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const bind = (params: unknown[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  const all = <T>(log: string[] | null, sql: string, params: unknown[]) => {
    log?.push(sql);
    return Promise.resolve(stmt(sql).all(...bind(params)) as T[]);
  };
  const on = (log: string[] | null): Scope => ({
    dialect: 'sqlite',
    all: <T>(sql: string, params: unknown[] = []) => all<T>(log, sql, params),
    prepared: <T>(sql: string, params: unknown[] = []) => all<T>(log, sql, params),
    run(sql: string, params: unknown[] = []) {
      log?.push(sql);
      const r = stmt(sql).run(...bind(params));
      return Promise.resolve({ insertId: Number(r.lastInsertRowid), affected: r.changes });
    },
  });
  // One connection: transactions take turns (as the API's TransactionRunner does on SQLite).
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dialect: 'sqlite',
    scope: on,
    tx<T>(log: string[] | null, fn: (s: Scope) => Promise<T>): Promise<T> {
      const run = queue.then(async () => {
        log?.push('BEGIN TRANSACTION');
        db.exec('BEGIN');
        try {
          const out = await fn(on(log));
          log?.push('COMMIT');
          db.exec('COMMIT');
          return out;
        } catch (err) {
          log?.push('ROLLBACK');
          db.exec('ROLLBACK');
          throw err;
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
