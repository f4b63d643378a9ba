import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { createConnection, createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { createApp } from '../app.factory';
import { API_SECURITY, securityHeaders } from '../common/http/security-headers';
import { type AppConfig, loadConfigFromProcess } from '../config/app-config';
import { dbDate, dialectOf } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import { RateSampleEntity } from '../rates/rate-sample.entity';
import { RatesService } from '../rates/rates.service';
import { UsersService } from '../users/users.service';
import { WalletService } from '../wallet/wallet.service';
import { PasswordHasher } from '../auth/password-hasher';
import { ServerProcess, sleep } from '../scripts/server-process';
import { type RatioBar, ratioChartSvg } from './chart';

/**
 * `npm run bench`: seeds BENCH_SAMPLES (default 1,000,000) rate samples over 90 days into a fresh
 * benchmark database of the configured dialect, then measures in the same run:
 *  - cached GET /exchangeRate requests/s (autocannon, 16 connections) against a bare Fastify hello-world
 *    and authenticated GET /whoami against bare Fastify + the driver doing the same per-request
 *    lookup (baseline-server.ts), each baseline in its own process like the API;
 *  - analytics and history latency (p50/p99) against the raw SQL aggregate over the raw table;
 *  - POST /transaction committed/s at 16 concurrent clients against a raw driver transaction doing
 *    the same balance update and ledger insert;
 *  - hot-offer contention: 16 takers partially taking one big market offer at once (POST
 *    /market/offers/:id/accept) against a raw driver transaction doing the conditional hot-row
 *    update, the taker's conditional balance update and a ledger-like insert on scratch tables.
 * HTTP load on the API is generated with autocannon. Prints a table of ratios and writes
 * docs/BENCHMARKS.md (or -sqlite.md) and the chart docs/benchmarks.svg (or -sqlite.svg).
 * Not a test: numbers, not assertions.
 */
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 60);
const CLIENTS = 16;
/** Seconds of autocannon load before each measured HTTP run (discarded). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const DAYS = 90;
/** The hot offer: gives HOT_GIVE_USD for LBP at HOT_RATE; every take is HOT_FILL_USD (also its min fill). */
const HOT_GIVE_USD = 10_000_000;
const HOT_RATE = 89_500;
const HOT_FILL_USD = 1;
const HOT_FILL_MINOR = BigInt(HOT_FILL_USD * 100);
const HOT_PAY_MINOR = BigInt(HOT_FILL_USD * HOT_RATE * 100);

interface Latency {
  p50: number;
  p99: number;
  n: number;
}

function percentiles(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}

/** Sequential timed calls after 5 warm-ups; `fn` resolves false (or throws) on an error. */
async function time(
  n: number,
  fn: (i: number) => Promise<boolean>,
): Promise<{ latency: Latency; errors: number }> {
  const attempt = (i: number): Promise<boolean> => fn(i).catch(() => false);
  for (let i = 0; i < Math.min(5, n); i++) await attempt(i); // warm-up
  const ms: number[] = [];
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if (!(await attempt(i))) errors += 1;
    ms.push(performance.now() - t0);
  }
  return { latency: percentiles(ms), errors };
}

interface Throughput {
  perSecond: number;
  ok: number;
  errors: number;
  /** Of every operation, successful or not, as its client saw it (queueing for a connection included). */
  latency: Latency;
  /** Successful operations of the discarded warm-up (autocannon runs). */
  warmupOk?: number;
  /** Of an alternating comparison: the per-second rate of every run, in order (this is the median). */
  rounds?: number[];
}

async function throughput(
  seconds: number,
  clients: number,
  op: (client: number) => Promise<boolean>,
): Promise<Throughput> {
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  let errors = 0;
  const ms: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const done = await op(c);
        ms.push(performance.now() - t0);
        if (done) ok += 1;
        else errors += 1;
      }
    }),
  );
  return { perSecond: ok / seconds, ok, errors, latency: percentiles(ms) };
}

interface CannonRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The status of a success (anything else counts as an error). */
  expect?: number;
}

/** One autocannon run; latency of every response (float ms), successes by status. */
function cannonRun(
  base: string,
  req: CannonRequest,
  connections: number,
  seconds: number,
  onError?: (status: number) => void,
): Promise<{ ok: number; errors: number; seconds: number; ms: number[] }> {
  const expect = req.expect ?? 200;
  return new Promise((resolve, reject) => {
    let ok = 0;
    let bad = 0;
    const ms: number[] = [];
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const t0 = performance.now();
    const tracker = autocannon(
      {
        url: `${base}${req.path}`,
        method: req.method ?? 'GET',
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        connections,
        duration: seconds,
        timeout: 30,
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({ ok, errors: bad + result.errors, seconds: (performance.now() - t0) / 1000, ms });
      },
    );
    const onResponse: autocannon.ResponseListener = (_client, status, _bytes, responseTime) => {
      ms.push(responseTime);
      if (status === expect) ok += 1;
      else {
        bad += 1;
        onError?.(status);
      }
    };
    tracker.on('response', onResponse);
  });
}

/**
 * Throughput of HTTP requests with autocannon after a discarded warm-up: one autocannon instance
 * per entry of `reqs` (each with `connections / reqs.length` connections, so every client can have
 * its own token), all at once; per second of successful answers, latency of every answer.
 */
async function cannon(
  base: string,
  reqs: CannonRequest[],
  connections: number,
  seconds: number,
  onError?: (status: number) => void,
): Promise<Throughput> {
  const per = Math.max(1, Math.floor(connections / reqs.length));
  const warm =
    WARMUP_SECONDS > 0 ? await Promise.all(reqs.map((r) => cannonRun(base, r, per, WARMUP_SECONDS))) : [];
  const runs = await Promise.all(reqs.map((r) => cannonRun(base, r, per, seconds, onError)));
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const errors = runs.reduce((a, r) => a + r.errors, 0);
  const wall = Math.max(...runs.map((r) => r.seconds));
  return {
    perSecond: ok / wall,
    ok,
    errors,
    latency: percentiles(runs.flatMap((r) => r.ms)),
    warmupOk: warm.reduce((a, r) => a + r.ok, 0),
  };
}

/** Creates scratch tables (dropping leftovers first), runs fn, and drops them whatever happens. */
async function withScratchTables<T>(
  exec: (sql: string) => unknown,
  tables: string[],
  ddl: string[],
  fn: () => Promise<T>,
): Promise<T> {
  for (const t of tables) await exec(`DROP TABLE IF EXISTS ${t}`);
  for (const statement of ddl) await exec(statement);
  try {
    return await fn();
  } finally {
    for (const t of tables) await exec(`DROP TABLE IF EXISTS ${t}`);
  }
}

/** One transaction on a pooled mysql2 connection: true when it committed, false when fn threw. */
async function mysqlTransaction(pool: Pool, fn: (conn: PoolConnection) => Promise<void>): Promise<boolean> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    await fn(conn);
    await conn.commit();
    return true;
  } catch {
    await conn.rollback();
    return false;
  } finally {
    conn.release();
  }
}

/** Throws unless a mysql2 write result changed exactly one row. */
function oneRow(result: unknown, what: string): void {
  if ((result as { affectedRows: number }).affectedRows !== 1) throw new Error(`${what}: no row changed`);
}

/** The share of the whole machine's CPU time spent idle over the next `ms`. */
async function idleShare(ms: number): Promise<number> {
  const sum = () =>
    cpus().reduce(
      (a, { times: t }) => ({ idle: a.idle + t.idle, all: a.all + t.user + t.nice + t.sys + t.idle + t.irq }),
      { idle: 0, all: 0 },
    );
  const before = sum();
  await sleep(ms);
  const after = sum();
  return (after.idle - before.idle) / Math.max(1, after.all - before.all);
}

/** The machine counts as quiet when at least this share of its CPU time is idle over 2 s. */
const QUIET_IDLE = 0.9;

/**
 * Waits (at most `maxSeconds`) until the machine is quiet: right after the seed, the database is
 * still flushing and purging a million rows, which takes CPU from whichever server is measured
 * then, and more from the one that needs more CPU per request. Returns the seconds waited and the
 * last idle share.
 */
async function quietMachine(maxSeconds: number): Promise<{ waited: number; idle: number }> {
  const t0 = performance.now();
  let idle = await idleShare(2000);
  while (idle < QUIET_IDLE && performance.now() - t0 < maxSeconds * 1000) idle = await idleShare(2000);
  return { waited: (performance.now() - t0) / 1000, idle };
}

/** Rounds of the alternating ours/baseline HTTP comparisons. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Runs a and b alternately ROUNDS times each; each side's run with the median rate. */
async function alternating(
  a: () => Promise<Throughput>,
  b: () => Promise<Throughput>,
): Promise<[Throughput, Throughput]> {
  const as: Throughput[] = [];
  const bs: Throughput[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const median = (runs: Throughput[]): Throughput => ({
    ...[...runs].sort((x, y) => x.perSecond - y.perSecond)[Math.floor(runs.length / 2)],
    rounds: runs.map((r) => r.perSecond),
  });
  return [median(as), median(bs)];
}

/** The runs of an alternating comparison, for the report: each side's rates and each round's ratio. */
function roundsText(ours: Throughput, base: Throughput): string {
  const a = ours.rounds ?? [];
  const b = base.rounds ?? [];
  const rate = (x: number[]) => x.map((v) => v.toFixed(0)).join(', ');
  return `runs of this one, in order: ours ${rate(a)}/s; baseline ${rate(b)}/s; ratio per round ${a
    .map((v, i) => (v / b[i]).toFixed(2))
    .join(', ')}`;
}

/** The scratch tables of the raw hot-row baseline (created and dropped by the benchmark). */
const HOT_TABLES = ['bench_hot_ledger', 'bench_hot_wallets', 'bench_hot_offers'];
function hotTablesDdl(dialect: 'mysql' | 'sqlite'): string[] {
  const id =
    dialect === 'mysql' ? 'INT NOT NULL AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    'CREATE TABLE bench_hot_offers (id INT NOT NULL PRIMARY KEY, remaining BIGINT NOT NULL)',
    'CREATE TABLE bench_hot_wallets (user_id INT NOT NULL PRIMARY KEY, lbp_available BIGINT NOT NULL)',
    `CREATE TABLE bench_hot_ledger (id ${id}, journal_id VARCHAR(36) NOT NULL, user_id INT NOT NULL,
      currency VARCHAR(3) NOT NULL, amount BIGINT NOT NULL, kind VARCHAR(32) NOT NULL, created_at DATETIME(3) NOT NULL)`,
    'CREATE INDEX ix_bench_hot_ledger_user ON bench_hot_ledger (user_id, id)',
    'CREATE INDEX ix_bench_hot_ledger_journal ON bench_hot_ledger (journal_id)',
  ];
}
/**
 * The scratch tables of the raw transaction baseline: a wallet row per client and a ledger shaped like
 * ledger_entries (same columns and indexes), so the baseline never unbalances the real ledger.
 */
const TX_TABLES = ['bench_tx_ledger', 'bench_tx_wallets'];
function txTablesDdl(dialect: 'mysql' | 'sqlite'): string[] {
  const id =
    dialect === 'mysql' ? 'INT NOT NULL AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    'CREATE TABLE bench_tx_wallets (user_id INT NOT NULL PRIMARY KEY, usd_available BIGINT NOT NULL)',
    `CREATE TABLE bench_tx_ledger (id ${id}, journal_id VARCHAR(36) NOT NULL, account VARCHAR(16) NOT NULL,
      user_id INT NULL, currency VARCHAR(3) NOT NULL, amount BIGINT NOT NULL, balance_after BIGINT NULL,
      kind VARCHAR(32) NOT NULL, ref_type VARCHAR(32) NULL, ref_id INT NULL, created_at DATETIME(3) NOT NULL)`,
    'CREATE INDEX ix_bench_tx_ledger_user ON bench_tx_ledger (user_id, id)',
    'CREATE INDEX ix_bench_tx_ledger_journal ON bench_tx_ledger (journal_id)',
  ];
}
const TX_SQL = {
  wallet: 'INSERT INTO bench_tx_wallets (user_id, usd_available) VALUES (?, ?)',
  update:
    'UPDATE bench_tx_wallets SET usd_available = usd_available - 1000 WHERE user_id = ? AND usd_available >= 1000',
  ledger: `INSERT INTO bench_tx_ledger (journal_id, account, user_id, currency, amount, balance_after, kind, ref_type, ref_id, created_at)
    VALUES (?, 'user', ?, 'USD', -1000, NULL, 'BENCH', NULL, NULL, ?)`,
};

const HOT_SQL = {
  take: 'UPDATE bench_hot_offers SET remaining = remaining - ? WHERE id = ? AND remaining >= ?',
  pay: 'UPDATE bench_hot_wallets SET lbp_available = lbp_available - ? WHERE user_id = ? AND lbp_available >= ?',
  ledger: `INSERT INTO bench_hot_ledger (journal_id, user_id, currency, amount, kind, created_at)
    VALUES (?, ?, 'LBP', ?, 'BENCH_TRADE', ?)`,
  offer: 'INSERT INTO bench_hot_offers (id, remaining) VALUES (1, ?)',
  wallet: 'INSERT INTO bench_hot_wallets (user_id, lbp_available) VALUES (?, ?)',
  remaining: 'SELECT remaining FROM bench_hot_offers WHERE id = 1',
};

async function benchConfig(base: AppConfig): Promise<AppConfig> {
  const db = { ...base.db, migrationsRun: true, logging: false };
  if (db.type === 'sqlite') {
    const file = join('data', 'bench.sqlite');
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    db.sqlitePath = file;
  } else {
    db.name = `${base.db.name}_bench`;
    const c = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
    await c.query(`DROP DATABASE IF EXISTS \`${db.name}\``);
    await c.query(`CREATE DATABASE \`${db.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await c.end();
  }
  return {
    ...base,
    nodeEnv: 'production',
    logLevel: 'silent',
    db,
    auth: { ...base.auth, bcryptRounds: 4, jwtSecret: 'bench-secret-0123456789-0123456789-abcdef' },
    money: { ...base.money, transactionLimit: 1_000_000_000, offerLimit: 1_000_000_000 },
    rateLimit: { ...base.rateLimit, loginLimit: 1_000_000, redisUrl: null },
    adminBootstrap: null,
    warnings: [],
  };
}

/**
 * The built API (dist/src/main.js), or with `baseline` one of the bare servers of
 * baseline-server.js, in its own process on a free port against the bench database.
 */
async function startServer(
  config: AppConfig,
  baseline?: 'hello' | 'whoami',
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const db = config.db;
  const script = baseline ? join(__dirname, 'baseline-server.js') : join(__dirname, '..', 'main.js');
  return ServerProcess.start(baseline ?? 'api', script, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    JWT_SECRET_KEY: config.auth.jwtSecret,
    BCRYPT_ROUNDS: String(config.auth.bcryptRounds),
    LOGIN_RATE_LIMIT: '100000',
    TRANSACTION_RATE_LIMIT: '1000000',
    OFFER_RATE_LIMIT: '1000000',
    MIGRATIONS_RUN: 'false',
    DB_TYPE: db.type,
    // the server runs in an empty working directory of its own
    SQLITE_PATH: resolve(db.sqlitePath),
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_USER: db.user,
    DB_PASSWORD: db.password,
    DB_NAME: db.name,
    BASELINE: baseline ?? '',
    ...extraEnv,
  });
}

async function main(): Promise<void> {
  const config = await benchConfig(loadConfigFromProcess());
  // This process seeds and runs the baselines; the API under test runs in its own process (the
  // built server, as `npm start` runs it), so the load generator does not share its core.
  const app = await createApp(config);
  const ds = app.get(DataSource);
  const dialect = dialectOf(ds);
  const log = (s: string) => console.log(`[bench] ${s}`);

  // --- seed samples (bulk, then the rollup rebuilt from them) -------------------------------------
  const end = new Date(Math.floor(Date.now() / 3600_000) * 3600_000);
  const start = new Date(end.getTime() - DAYS * 24 * 3600_000);
  const span = end.getTime() - start.getTime();
  let t0 = performance.now();
  const batch = 1500;
  for (let i = 0; i < SAMPLES; i += batch) {
    const rows: Partial<RateSampleEntity>[] = [];
    for (let j = i; j < Math.min(SAMPLES, i + batch); j++) {
      const at = new Date(start.getTime() + Math.floor((j / SAMPLES) * span));
      const drift = 88_000 + 3_000 * (j / SAMPLES) + 400 * Math.sin(j / 5000);
      const outlier = j % 997 === 0;
      rows.push({
        direction: j % 2 === 0 ? 'usd_to_lbp' : 'lbp_to_usd',
        rate: Math.round(drift * (1 + (Math.random() - 0.5) * 0.01) * (outlier ? 3 : 1)),
        source: 'feed',
        userId: null,
        transactionId: null,
        tradeId: null,
        usdVolume: BigInt(5_000 + Math.floor(Math.random() * 100_000)),
        isOutlier: outlier,
        anomalyReason: outlier ? 'bench planted' : null,
        anomalyScore: null,
        baselineRate: null,
        deviationPercent: null,
        createdAt: at,
      });
    }
    await ds.createQueryBuilder().insert().into(RateSampleEntity).values(rows).updateEntity(false).execute();
  }
  log(`seeded ${SAMPLES} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  await app.get(RatesService).rebuildRollup(start, end);
  log(`rollup rebuilt in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // --- users with money, logged in -----------------------------------------------------------------
  const users = app.get(UsersService);
  const wallets = app.get(WalletService);
  const tx = app.get(TransactionRunner);
  const hash = await app.get(PasswordHasher).hash('bench-password-1');
  const server = await startServer(config);
  const base = server.base;
  const suffix = Date.now() % 100000;
  /** A new user funded (from the funding account) with plenty of both currencies, logged in. */
  const fundedUser = async (userName: string): Promise<{ id: number; token: string }> => {
    const u = await users.create({ userName, passwordHash: hash });
    await tx.run((m) =>
      wallets.post(
        {
          kind: 'BENCH_FUNDING',
          legs: [
            { account: 'user', userId: u.id, currency: 'USD', amount: 10n ** 13n },
            { account: 'funding', currency: 'USD', amount: -(10n ** 13n) },
            { account: 'user', userId: u.id, currency: 'LBP', amount: 10n ** 15n },
            { account: 'funding', currency: 'LBP', amount: -(10n ** 15n) },
          ],
        },
        m,
      ),
    );
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_name: u.userName, password: 'bench-password-1' }),
    });
    if (res.status !== 200)
      throw new Error(`login of ${userName} answered ${res.status}: ${await res.text()}`);
    return { id: u.id, token: ((await res.json()) as { access_token: string }).access_token };
  };
  const tokens: string[] = [];
  const ids: number[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const u = await fundedUser(`bench_${c}_${suffix}`);
    ids.push(u.id);
    tokens.push(u.token);
  }
  const get = async (path: string, token: string): Promise<boolean> => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) {
      log(`${path} answered ${res.status}: ${await res.text()}`);
      return false;
    }
    await res.arrayBuffer();
    return true;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const fmt = (t: Throughput) =>
    `${t.perSecond.toFixed(1)}/s, p50 ${t.latency.p50.toFixed(2)} ms, p99 ${t.latency.p99.toFixed(2)} ms, ${t.errors} errors`;

  // --- GET /exchangeRate vs a bare Fastify hello-world, GET /whoami vs bare Fastify + driver -------
  // Ours and its baseline alternate, ROUNDS times each, and each side reports its median run: on a
  // shared machine, background work (e.g. the database flushing the seed) would otherwise favour
  // whichever side happens to run later.
  const hello = await startServer(config, 'hello');
  /** Header lines of an answer as sent (Node adds Date, Connection and Keep-Alive to every one). */
  const headerLines = async (url: string): Promise<number> => {
    const res = await fetch(url);
    await res.arrayBuffer();
    return [...res.headers.keys()].length;
  };
  const rateHeaders = await headerLines(`${base}/exchangeRate`);
  const helloHeaders = await headerLines(`${hello.base}/`);
  const quiet = await quietMachine(180);
  log(`machine quiet after ${quiet.waited.toFixed(0)} s (${(quiet.idle * 100).toFixed(0)}% idle)`);
  const [oursRate, rawHello] = await alternating(
    () => cannon(base, [{ path: '/exchangeRate' }], CLIENTS, SECONDS),
    () => cannon(hello.base, [{ path: '/' }], CLIENTS, SECONDS),
  );
  await hello.stop();
  log(`GET /exchangeRate ${fmt(oursRate)}`);
  log(`bare Fastify hello-world ${fmt(rawHello)}`);
  log(roundsText(oursRate, rawHello));
  // Reference: the API's cheapest route through the whole Nest pipeline (public, SELECT 1).
  const oursHealth = await cannon(base, [{ path: '/health' }], CLIENTS, SECONDS);
  log(`GET /health ${fmt(oursHealth)}`);
  const who = await startServer(config, 'whoami');
  const [oursWho, rawWho] = await alternating(
    () => cannon(base, [{ path: '/whoami', headers: bearer(tokens[0]) }], CLIENTS, SECONDS),
    () => cannon(who.base, [{ path: '/whoami', headers: bearer(tokens[0]) }], CLIENTS, SECONDS),
  );
  await who.stop();
  log(`GET /whoami ${fmt(oursWho)}`);
  log(`bare Fastify + driver GET /whoami ${fmt(rawWho)}`);
  log(roundsText(oursWho, rawWho));
  // The cost of observability: the same API with METRICS_ENABLED=false (no per-request histogram
  // and counter, no GET /metrics), same route, same token, alternating.
  const noMetrics = await startServer(config, undefined, { METRICS_ENABLED: 'false' });
  const [whoMetricsOn, whoMetricsOff] = await alternating(
    () => cannon(base, [{ path: '/whoami', headers: bearer(tokens[0]) }], CLIENTS, SECONDS),
    () => cannon(noMetrics.base, [{ path: '/whoami', headers: bearer(tokens[0]) }], CLIENTS, SECONDS),
  );
  await noMetrics.stop();
  log(`GET /whoami, metrics on ${fmt(whoMetricsOn)}`);
  log(`GET /whoami, metrics off ${fmt(whoMetricsOff)}`);
  log(roundsText(whoMetricsOn, whoMetricsOff));

  // --- analytics and history vs the raw aggregate --------------------------------------------------
  const from = start.toISOString();
  const to = end.toISOString();
  const p = [dbDate(dialect, start), dbDate(dialect, end)];
  const rawAnalytics = `SELECT COUNT(*) AS n, MIN(rate) AS lo, MAX(rate) AS hi, AVG(rate) AS avg,
    SUM(rate * usd_volume) / SUM(usd_volume) AS vwap FROM rate_samples
    WHERE direction = 'usd_to_lbp' AND is_outlier = 0 AND created_at >= ? AND created_at <= ?`;
  const dayExpr =
    dialect === 'sqlite' ? "strftime('%Y-%m-%d', created_at)" : "DATE_FORMAT(created_at, '%Y-%m-%d')";
  const rawHistory = `SELECT ${dayExpr} AS t, COUNT(*) AS n, MIN(rate) AS lo, MAX(rate) AS hi,
    SUM(rate * usd_volume) / SUM(usd_volume) AS vwap, SUM(usd_volume) AS vol FROM rate_samples
    WHERE direction = 'usd_to_lbp' AND is_outlier = 0 AND created_at >= ? AND created_at <= ? GROUP BY t ORDER BY t`;
  const ours = await time(ITERATIONS, () =>
    get(`/analytics/exchange-rate?direction=usd_to_lbp&from=${from}&to=${to}`, tokens[0]),
  );
  const raw = await time(ITERATIONS, () => ds.query(rawAnalytics, p).then(() => true));
  const oursH = await time(ITERATIONS, () =>
    get(`/history/exchange-rate?direction=usd_to_lbp&bucket=day&from=${from}&to=${to}`, tokens[0]),
  );
  const rawH = await time(ITERATIONS, () => ds.query(rawHistory, p).then(() => true));
  log(`analytics p50 ${ours.latency.p50.toFixed(2)} ms vs raw ${raw.latency.p50.toFixed(2)} ms`);
  log(`history p50 ${oursH.latency.p50.toFixed(2)} ms vs raw ${rawH.latency.p50.toFixed(2)} ms`);

  // --- POST /transaction vs a raw driver transaction ------------------------------------------------
  const oursTx = await cannon(
    base,
    tokens.map((t) => ({
      method: 'POST' as const,
      path: '/transaction',
      headers: bearer(t),
      body: { usd_amount: 10, lbp_amount: 895000, usd_to_lbp: true },
      expect: 201,
    })),
    CLIENTS,
    SECONDS,
  );
  log(`POST /transaction ${fmt(oursTx)}`);

  // --- hot offer: CLIENTS takers on one big offer vs a raw hot-row transaction ----------------------
  const maker = await fundedUser(`bench_maker_${suffix}`);
  const takers: string[] = [];
  for (let c = 0; c < CLIENTS; c++) takers.push((await fundedUser(`bench_taker_${c}_${suffix}`)).token);
  const offerRes = await fetch(`${base}/market/offers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${maker.token}` },
    body: JSON.stringify({
      give_currency: 'USD',
      give_amount: HOT_GIVE_USD,
      want_currency: 'LBP',
      want_amount: HOT_GIVE_USD * HOT_RATE,
      min_fill_amount: HOT_FILL_USD,
    }),
  });
  if (offerRes.status !== 201) {
    throw new Error(`POST /market/offers answered ${offerRes.status}: ${await offerRes.text()}`);
  }
  const offerId = ((await offerRes.json()) as { id: number }).id;
  const hotFailures = new Map<string, number>();
  const oursHot = await cannon(
    base,
    takers.map((t) => ({
      method: 'POST' as const,
      path: `/market/offers/${offerId}/accept`,
      headers: bearer(t),
      body: { amount: HOT_FILL_USD },
      expect: 201,
    })),
    CLIENTS,
    SECONDS,
    (status) => hotFailures.set(String(status), (hotFailures.get(String(status)) ?? 0) + 1),
  );
  const hotFailureText = [...hotFailures].map(([what, n]) => `${n} x ${what}`).join(', ') || 'none';
  log(`hot offer ${fmt(oursHot)} (non-2xx: ${hotFailureText})`);
  // The offer must have lost exactly one fill per committed take.
  const offerAfter = await fetch(`${base}/market/offers/${offerId}`, {
    headers: { authorization: `Bearer ${maker.token}` },
  });
  const filled = ((await offerAfter.json()) as { filled_give_amount?: number }).filled_give_amount;
  const takes = oursHot.ok + (oursHot.warmupOk ?? 0);
  // Requests still in flight when an autocannon run ends commit without being counted (one per
  // connection at most, for the warm-up and the measured run).
  if (
    filled === undefined ||
    filled < takes * HOT_FILL_USD ||
    filled > (takes + 2 * CLIENTS) * HOT_FILL_USD
  ) {
    log(`WARNING: hot offer filled ${filled} USD after ${takes} committed takes of ${HOT_FILL_USD} USD`);
  }
  const versionRows: { v: string }[] = await ds.query(
    dialect === 'mysql' ? 'SELECT VERSION() AS v' : 'SELECT sqlite_version() AS v',
  );
  const dbVersion = versionRows[0]?.v ?? '?';
  await server.stop();
  await app.close();

  let rawTx: Throughput;
  let rawHot: Throughput;
  let rawHotLeft: bigint;
  const hotEscrow = BigInt(HOT_GIVE_USD) * 100n;
  const hotFunding = 10n ** 15n;
  if (dialect === 'mysql') {
    const pool = createPool({
      host: config.db.host,
      port: config.db.port,
      user: config.db.user,
      password: config.db.password,
      database: config.db.name,
      connectionLimit: CLIENTS,
      timezone: 'Z',
    });
    const exec = (sql: string) => pool.query(sql);
    rawTx = await withScratchTables(exec, TX_TABLES, txTablesDdl('mysql'), async () => {
      for (let c = 1; c <= CLIENTS; c++) await pool.query(TX_SQL.wallet, [c, hotFunding]);
      return throughput(SECONDS, CLIENTS, (c) =>
        mysqlTransaction(pool, async (conn) => {
          oneRow((await conn.query(TX_SQL.update, [c + 1]))[0], 'wallet');
          await conn.query(TX_SQL.ledger, [randomUUID(), c + 1, new Date()]);
        }),
      );
    });
    // The hot-row baseline on scratch tables: every client takes from the one offer row.
    [rawHot, rawHotLeft] = await withScratchTables(exec, HOT_TABLES, hotTablesDdl('mysql'), async () => {
      await pool.query(HOT_SQL.offer, [hotEscrow]);
      for (let c = 1; c <= CLIENTS; c++) await pool.query(HOT_SQL.wallet, [c, hotFunding]);
      const hot = await throughput(SECONDS, CLIENTS, (c) =>
        mysqlTransaction(pool, async (conn) => {
          oneRow((await conn.query(HOT_SQL.take, [HOT_FILL_MINOR, 1, HOT_FILL_MINOR]))[0], 'offer');
          oneRow((await conn.query(HOT_SQL.pay, [HOT_PAY_MINOR, c + 1, HOT_PAY_MINOR]))[0], 'taker');
          await conn.query(HOT_SQL.ledger, [randomUUID(), c + 1, -HOT_PAY_MINOR, new Date()]);
        }),
      );
      const [left] = await pool.query(HOT_SQL.remaining);
      return [hot, BigInt((left as { remaining: string | number }[])[0].remaining)] as const;
    });
    await pool.end();
  } else {
    const db = new Database(config.db.sqlitePath);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.pragma('synchronous = NORMAL');
    const exec = (sql: string) => db.exec(sql);
    /** Runs a synchronous transaction as one operation of throughput(): false when it threw. */
    const attempt = async (run: () => void): Promise<boolean> => {
      await Promise.resolve();
      try {
        run();
        return true;
      } catch {
        return false;
      }
    };
    rawTx = await withScratchTables(exec, TX_TABLES, txTablesDdl('sqlite'), () => {
      const wallet = db.prepare(TX_SQL.wallet);
      for (let c = 1; c <= CLIENTS; c++) wallet.run(c, hotFunding);
      const update = db.prepare(TX_SQL.update);
      const insert = db.prepare(TX_SQL.ledger);
      const one = db.transaction((c: number) => {
        if (update.run(c + 1).changes !== 1) throw new Error('wallet: no row changed');
        insert.run(randomUUID(), c + 1, dbDate('sqlite', new Date()));
      });
      return throughput(SECONDS, CLIENTS, (c) => attempt(() => one(c)));
    });
    [rawHot, rawHotLeft] = await withScratchTables(exec, HOT_TABLES, hotTablesDdl('sqlite'), async () => {
      db.prepare(HOT_SQL.offer).run(hotEscrow);
      const wallet = db.prepare(HOT_SQL.wallet);
      for (let c = 1; c <= CLIENTS; c++) wallet.run(c, hotFunding);
      const takeRow = db.prepare(HOT_SQL.take);
      const pay = db.prepare(HOT_SQL.pay);
      const ledger = db.prepare(HOT_SQL.ledger);
      const take = db.transaction((c: number) => {
        if (takeRow.run(HOT_FILL_MINOR, 1, HOT_FILL_MINOR).changes !== 1) throw new Error('offer short');
        if (pay.run(HOT_PAY_MINOR, c + 1, HOT_PAY_MINOR).changes !== 1) throw new Error('taker short');
        ledger.run(randomUUID(), c + 1, -HOT_PAY_MINOR, dbDate('sqlite', new Date()));
      });
      const hot = await throughput(SECONDS, CLIENTS, (c) => attempt(() => take(c)));
      const left = db.prepare(HOT_SQL.remaining).safeIntegers(true).get() as { remaining: bigint };
      return [hot, left.remaining] as const;
    });
    db.close();
  }
  log(`raw transaction ${rawTx.perSecond.toFixed(1)} committed/s`);
  log(
    `raw hot row ${rawHot.perSecond.toFixed(1)} takes/s, p50 ${rawHot.latency.p50.toFixed(2)} ms, ` +
      `p99 ${rawHot.latency.p99.toFixed(2)} ms (${rawHot.errors} failed)`,
  );
  if (rawHotLeft !== hotEscrow - BigInt(rawHot.ok) * HOT_FILL_MINOR) {
    log(`WARNING: raw hot row left ${rawHotLeft} after ${rawHot.ok} takes of ${HOT_FILL_MINOR}`);
  }

  // --- report --------------------------------------------------------------------------------------
  const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const lat = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)}`;
  interface Row {
    name: string;
    chart: string;
    ours: string;
    baseline: string;
    ratio: number;
    goal: number | null;
    higherIsBetter: boolean;
    oursLatency: Latency;
    baseLatency: Latency;
    oursErrors: number;
    baseErrors: number;
  }
  const perSec = (name: string, chart: string, a: Throughput, b: Throughput, goal: number | null): Row => ({
    name,
    chart,
    ours: `${a.perSecond.toFixed(1)}/s`,
    baseline: `${b.perSecond.toFixed(1)}/s`,
    ratio: ratio(a.perSecond, b.perSecond),
    goal,
    higherIsBetter: true,
    oursLatency: a.latency,
    baseLatency: b.latency,
    oursErrors: a.errors,
    baseErrors: b.errors,
  });
  type Timed = Awaited<ReturnType<typeof time>>;
  const p50 = (name: string, chart: string, a: Timed, b: Timed, goal: number | null): Row => ({
    name,
    chart,
    ours: ms(a.latency.p50),
    baseline: ms(b.latency.p50),
    ratio: ratio(a.latency.p50, b.latency.p50),
    goal,
    higherIsBetter: false,
    oursLatency: a.latency,
    baseLatency: b.latency,
    oursErrors: a.errors,
    baseErrors: b.errors,
  });
  const driver = dialect === 'mysql' ? 'mysql2' : 'better-sqlite3';
  const rows: Row[] = [
    perSec(
      `GET /exchangeRate requests/s, ${CLIENTS} connections (ours, cached / bare Fastify hello-world)`,
      'GET /exchangeRate vs Fastify hello-world',
      oursRate,
      rawHello,
      0.6,
    ),
    perSec(
      `reference: GET /health requests/s (ours: Nest pipeline + SELECT 1 / bare Fastify hello-world)`,
      'reference: GET /health vs Fastify hello-world',
      oursHealth,
      rawHello,
      null,
    ),
    perSec(
      `GET /whoami requests/s, ${CLIENTS} connections (ours / bare Fastify + ${driver}, same lookup)`,
      `GET /whoami vs Fastify + ${driver}`,
      oursWho,
      rawWho,
      0.5,
    ),
    perSec(
      `GET /whoami requests/s, ${CLIENTS} connections (metrics on / METRICS_ENABLED=false): the cost of observability`,
      'GET /whoami metrics on vs off',
      whoMetricsOn,
      whoMetricsOff,
      0.9,
    ),
    p50('analytics p50 latency (ours / raw SQL aggregate)', 'analytics p50 latency vs raw SQL', ours, raw, 3),
    p50(
      'history (day buckets) p50 latency (ours / raw SQL)',
      'history p50 latency vs raw SQL',
      oursH,
      rawH,
      3,
    ),
    perSec(
      `POST /transaction committed/s, ${CLIENTS} clients (ours / raw ${driver} transaction)`,
      `POST /transaction vs raw ${driver}`,
      oursTx,
      rawTx,
      0.4,
    ),
    perSec(
      `hot offer takes/s, ${CLIENTS} clients on one offer (ours / raw hot-row update)`,
      'hot offer takes vs raw hot-row update',
      oursHot,
      rawHot,
      null,
    ),
  ];
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${dialect === 'mysql' ? 'MySQL/MariaDB' : 'SQLite'} ${dbVersion}`;
  const goalText = (r: Row) =>
    r.goal === null
      ? '(higher is better)'
      : `${r.higherIsBetter ? '>=' : '<='} ${r.goal.toFixed(1)} (${r.higherIsBetter ? 'higher' : 'lower'} is better)`;
  const met = (r: Row) =>
    r.goal === null || Number.isNaN(r.ratio)
      ? ''
      : (r.higherIsBetter ? r.ratio >= r.goal : r.ratio <= r.goal)
        ? ' met'
        : ' **missed**';
  const table = [
    '| measure | ours | baseline | ratio | goal | ours p50 / p99 | baseline p50 / p99 | errors ours / baseline |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.ours} | ${r.baseline} | ${Number.isNaN(r.ratio) ? 'n/a' : r.ratio.toFixed(r.ratio < 0.1 ? 3 : 2)} | ${goalText(r)}${met(r)} | ${lat(r.oursLatency)} | ${lat(r.baseLatency)} | ${r.oursErrors} / ${r.baseErrors} |`,
    ),
  ].join('\n');
  console.log(`\n${table}\n`);
  const suffixName = dialect === 'mysql' ? '' : '-sqlite';
  const svgName = `benchmarks${suffixName}.svg`;
  const bars: RatioBar[] = rows.map((r) => ({
    label: r.chart,
    ratio: r.ratio,
    goal: r.goal,
    higherIsBetter: r.higherIsBetter,
  }));
  const svg = ratioChartSvg(
    `npm run bench: ours / baseline (${dialect === 'mysql' ? `MariaDB/MySQL ${dbVersion}` : `SQLite ${dbVersion}`})`,
    `${new Date().toISOString().slice(0, 16)}Z, ${SAMPLES.toLocaleString('en-US')} samples, ${CLIENTS} connections, ${SECONDS} s per throughput figure`,
    bars,
  );
  const rateRatio = rows[0].ratio;
  const healthRatio = rows[1].ratio;
  const whoRatio = rows[2].ratio;
  const metricsRatio = rows[3].ratio;
  const doc = `# Benchmarks

Produced by \`npm run bench\` (${new Date().toISOString()}), all figures measured in one run on one machine:
${machine}; database ${dialect} with ${SAMPLES.toLocaleString('en-US')} rate samples over ${DAYS} days.

![ratios ours / baseline](${svgName})

${table}

How each row is measured (the API runs in its own process, the built server as \`npm start\` runs it;
the load generator and the raw baselines run in the benchmark process):

- **HTTP throughput rows** (\`/exchangeRate\`, \`/whoami\`, \`POST /transaction\`, hot-offer takes) are
  measured with autocannon over loopback: ${CLIENTS} connections, ${WARMUP_SECONDS} s of discarded warm-up, then
  ${SECONDS} s measured. They start once the machine is quiet (at least ${QUIET_IDLE * 100}% of its CPU time idle
  over 2 s: after the seed the database flushes and purges for a while; this run waited ${quiet.waited.toFixed(0)} s,
  then ${(quiet.idle * 100).toFixed(0)}% idle). \`/exchangeRate\` and \`/whoami\` alternate with their baseline, ${ROUNDS} runs each,
  and each side shows its median run. "ours/s" counts answers with the success status (200, or 201 for the POSTs) per second;
  p50/p99 are over every answer; errors are other statuses plus socket errors and timeouts.
  \`POST /transaction\` and the takes use one autocannon instance of one connection per user, so
  each client has its own account, as before.
- **GET /exchangeRate vs a bare Fastify hello-world**: both servers in their own process, measured
  the same way. The market rate is computed at most once per \`MARKET_RATE_CACHE_MS\` (1 s; at once
  after a write through this instance) and, while it is cached, answered by an onRequest hook after
  the security headers and the maintenance gate, before CORS (the load has no \`Origin\`, so it is
  not a CORS request, whose headers are constant) and the Nest pipeline, with the same headers and
  body as a computed answer. The API's answer carries ${rateHeaders} header lines (${Object.keys(securityHeaders(API_SECURITY)).length} security headers, the
  request id, \`Vary\` and the exposed CORS headers among them), the hello-world's ${helloHeaders}. About one request per second computes it (two
  window aggregates on the hourly rollup); the rest are the cached answer.${Number.isNaN(rateRatio) ? '' : rateRatio >= 0.6 ? ' It meets the 0.6 goal.' : ` At ${rateRatio.toFixed(2)} it misses the 0.6 goal.`}
  The ${roundsText(oursRate, rawHello)}. The load generator runs on the same machine as the servers and competes with them for its cores, so single runs spread; the median is the figure.
  For reference, \`GET /health\` (the whole Nest pipeline: four global guards incl. the throttler,
  the audit and paging interceptors, and one \`SELECT 1\`) reaches ${Number.isNaN(healthRatio) ? 'n/a' : healthRatio.toFixed(2)} of the hello-world in this run.
- **GET /whoami vs bare Fastify + ${driver}** (src/bench/baseline-server.ts, its own process):
  the baseline verifies the HS256 access token with node:crypto (signature, \`alg\`, \`exp\`, \`typ\`),
  loads the session joined with its user by the token's \`sid\` and checks user id, status, revocation
  and expiry (what our JWT guard does per request), then reads the user row and the wallet row (what
  our handler does) and answers the same JSON: the same three queries as ours (as prepared
  statements: mysql2 \`execute\` on a pool of 20, or better-sqlite3 prepared statements), without Nest,
  passport, class-transformer or TypeORM. Both use the same token of one user. ${Number.isNaN(whoRatio) ? '' : whoRatio >= 0.5 ? 'Ours meets the 0.5 goal.' : `Ours (${whoRatio.toFixed(2)}) misses the 0.5 goal.`}
  The ${roundsText(oursWho, rawWho)}.
- **GET /whoami with metrics on vs off**: the same built API twice, the second with
  \`METRICS_ENABLED=false\` (no request histogram and counter per answer), same token, alternating
  ${ROUNDS} runs each. ${Number.isNaN(metricsRatio) ? '' : metricsRatio >= 0.9 ? 'It meets the 0.9 goal.' : `At ${metricsRatio.toFixed(2)} it misses the 0.9 goal.`}
  The ${roundsText(whoMetricsOn, whoMetricsOff)}.
- **analytics and history** are latency figures: ${ITERATIONS} sequential timed requests each (after 5
  warm-ups) on one connection, against the raw SQL aggregate over the raw table through the same
  driver in the benchmark process. Ours includes HTTP, JWT and the per-request session check.
  Market analytics and history read the hourly rollup (a few hundred rows for 90 days) plus the two
  cut edge hours, so they stay flat as the raw table grows, while the raw aggregate scans every sample
  of the range.
- **POST /transaction vs raw ${driver}**: the raw transaction (${CLIENTS} concurrent clients in the benchmark
  process, ${SECONDS} s) does the conditional balance update and one ledger insert, on scratch tables
  shaped like \`wallets\` and \`ledger_entries\` (so it leaves the real ledger balanced); ours also validates,
  checks the outlier baseline, writes the transaction row, four ledger legs, the rate sample and its
  hourly rollup, and the audit row. It is one HTTP request through Nest, passport and the throttler, a
  session lookup and about ten SQL statements through TypeORM against three bare statements. The
  figure is bound by CPU per request in the API process, not by database locks: the rollup row of
  the hour is spread over 8 shard rows, and alert checks after commits are coalesced.
- **hot offer**: ${CLIENTS} takers each take ${HOT_FILL_USD} USD at a time from one ${HOT_GIVE_USD.toLocaleString('en-US')} USD offer
  (\`POST /market/offers/:id/accept\`; offer row lock, compare-and-set, trade, four ledger legs, audit,
  two notifications, rate sample) against a raw transaction on scratch tables doing the conditional
  hot-row update, the taker's conditional balance update and one ledger-like insert; non-2xx answers
  of ours: ${hotFailureText}; failed raw transactions: ${rawHot.errors}.

Re-run: \`npm run bench\` (SQLite) or \`DB_TYPE=mysql npm run bench\` (MariaDB/MySQL; uses database
\`<DB_NAME>_bench\`). \`BENCH_SAMPLES\`, \`BENCH_SECONDS\`, \`BENCH_WARMUP_SECONDS\`, \`BENCH_ROUNDS\` and \`BENCH_ITERATIONS\` scale it.
`;
  const docs = join(__dirname, '..', '..', '..', 'docs');
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, `BENCHMARKS${suffixName}.md`), doc);
  writeFileSync(join(docs, svgName), svg);
  log(`wrote docs/BENCHMARKS${suffixName}.md and docs/${svgName}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
