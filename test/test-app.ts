import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConnection } from 'mysql2/promise';
import { createApp } from '../src/app.factory';
import { type AppConfig, loadConfig } from '../src/config/app-config';

export type E2eDb = 'sqlite' | 'mysql';

/** E2E_DB=mysql runs the suite on MariaDB/MySQL (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD); default SQLite. */
export const E2E_DB: E2eDb = process.env.E2E_DB === 'mysql' ? 'mysql' : 'sqlite';

// Response bodies are whatever the API sent; tests assert on their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Res {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json<T = Json>(): T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw payload (string) instead of JSON. */
  raw?: string;
  ip?: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  db: E2eDb;
  request(method: string, url: string, opts?: RequestOptions): Promise<Res>;
  close(): Promise<void>;
}

let counter = 0;

const baseEnv = (): Record<string, string> => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  BCRYPT_ROUNDS: '4',
  JWT_SECRET_KEY: 'e2e-secret-key-that-is-long-enough-0123456789',
  LOGIN_RATE_LIMIT: '10000',
  REGISTER_RATE_LIMIT: '10000',
  REFRESH_RATE_LIMIT: '10000',
  // the open crowd (every active account established): tests of establishment set their own
  RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '0',
  RATE_CONTRIBUTOR_MIN_AGE_HOURS: '0',
  DB_HOST: process.env.DB_HOST ?? '127.0.0.1',
  DB_PORT: process.env.DB_PORT ?? '3306',
  DB_USER: process.env.DB_USER ?? 'root',
  DB_PASSWORD: process.env.DB_PASSWORD ?? '',
  // the read-replica run of .ci/run: a MariaDB primary and a real replica of it
  DB_REPLICA_URLS: process.env.E2E_REPLICA_URLS ?? '',
  // the Galera run of .ci/run: the nodes of a 3-node cluster (DB_PORT: the first, for admin work)
  DB_CLUSTER_URLS: process.env.E2E_CLUSTER_URLS ?? '',
});

/** A short admin connection to the e2e MariaDB (no database selected), closed after `fn`. */
export async function mysqlAdmin<T>(
  fn: (c: Awaited<ReturnType<typeof createConnection>>) => Promise<T>,
): Promise<T> {
  const env = baseEnv();
  const conn = await createConnection({
    host: env.DB_HOST,
    port: Number(env.DB_PORT),
    user: env.DB_USER,
    password: env.DB_PASSWORD,
  });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

/**
 * Boots the real app (same factory as main.ts) on a fresh database migrated by the real migrations:
 * an in-memory SQLite, or a new MySQL database that is dropped on close.
 */
/**
 * In the read-replica run: waits until the replica has applied everything the primary has written
 * (MariaDB GTIDs), so the rest of the suite, which seeds through repositories and reads through
 * other users, runs on a replica without lag; test/read-replica.e2e-spec.ts tests lag itself.
 */
function replicaCatchUp(): { wait: () => Promise<void>; close: () => Promise<void> } | null {
  const url = (process.env.E2E_REPLICA_URLS ?? '').split(',')[0];
  if (E2E_DB !== 'mysql' || url === '') return null;
  type Conn = Awaited<ReturnType<typeof createConnection>>;
  let conns: Promise<{ primary: Conn; replica: Conn }> | null = null;
  const open = async () => {
    const env = baseEnv();
    const u = new URL(url);
    const [primary, replica] = await Promise.all([
      createConnection({
        host: env.DB_HOST,
        port: Number(env.DB_PORT),
        user: env.DB_USER,
        password: env.DB_PASSWORD,
      }),
      createConnection({
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username || 'root'),
        password: decodeURIComponent(u.password),
      }),
    ]);
    return { primary, replica };
  };
  return {
    async wait() {
      conns ??= open();
      const { primary, replica } = await conns;
      const [rows] = await primary.query('SELECT @@gtid_binlog_pos AS pos');
      const pos = (rows as { pos: string }[])[0]?.pos ?? '';
      if (pos === '') return;
      const [waited] = await replica.query('SELECT MASTER_GTID_WAIT(?, 10) AS r', [pos]);
      if (Number((waited as { r: number }[])[0].r) !== 0)
        throw new Error(`the replica did not reach ${pos} within 10 s`);
    },
    async close() {
      if (!conns) return;
      const { primary, replica } = await conns;
      await Promise.all([primary.end(), replica.end()]);
    },
  };
}

export async function startTestApp(
  overrides: Record<string, string> = {},
  options: { sameDatabaseAs?: TestApp; sqliteFile?: string; replicaLag?: boolean } = {},
): Promise<TestApp> {
  const env = { ...baseEnv(), ...overrides };
  let dropDb: string | null = null;
  if (options.sameDatabaseAs) {
    // a second instance on the first one's database (which it leaves to the first to drop)
    const db = options.sameDatabaseAs.config.db;
    Object.assign(env, { DB_TYPE: db.type, DB_NAME: db.name, SQLITE_PATH: db.sqlitePath });
  } else if (E2E_DB === 'sqlite' && options.sqliteFile) {
    Object.assign(env, { DB_TYPE: 'sqlite', SQLITE_PATH: options.sqliteFile });
  } else if (E2E_DB === 'mysql') {
    const name = `e2e_${process.pid}_${++counter}_${Date.now() % 100000}`;
    await mysqlAdmin((c) =>
      c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
    );
    Object.assign(env, { DB_TYPE: 'mysql', DB_NAME: name });
    dropDb = name;
  } else {
    Object.assign(env, { DB_TYPE: 'sqlite', SQLITE_PATH: ':memory:' });
  }
  const config = loadConfig(env);
  const app = await createApp(config);
  // (replicaLag: the test wants the replica's real lag)
  const replica = options.replicaLag ? null : replicaCatchUp();
  return {
    app,
    config,
    db: E2E_DB,
    async request(method, url, opts = {}) {
      await replica?.wait();
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let payload: string | undefined;
      if (opts.raw !== undefined) payload = opts.raw;
      else if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers,
        payload,
        remoteAddress: opts.ip ?? '127.0.0.1',
      });
      return {
        statusCode: res.statusCode,
        headers: res.headers,
        body: res.body,
        json: <T>(): T => JSON.parse(res.body) as T,
      };
    },
    async close() {
      await replica?.close();
      await app.close();
      if (dropDb) {
        const name = dropDb;
        await mysqlAdmin((c) => c.query(`DROP DATABASE IF EXISTS \`${name}\``));
      }
    },
  };
}
