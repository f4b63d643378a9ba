import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createConnection } from 'mysql2/promise';
import type { AppConfig } from '../src/config/app-config';
import { ServerProcess, sleep } from '../src/scripts/server-process';

/**
 * What the benchmarks share (bench.ts, flask-compare.ts): the load generators (autocannon runs and
 * fetch clients), the alternating ours/baseline rounds, waiting for a quiet machine, and the servers
 * each in its own process against a fresh benchmark database.
 */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CLIENTS = 16;
/** Seconds of autocannon load before each measured HTTP run (discarded). */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);

export interface Latency {
  p50: number;
  p99: number;
  n: number;
}

export function percentiles(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}

/** Sequential timed calls after 5 warm-ups; `fn` resolves false (or throws) on an error. */
export async function time(
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

export interface Throughput {
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

export async function throughput(
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

export interface CannonRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The status of a success (anything else counts as an error). */
  expect?: number;
}

/** One autocannon run; latency of every response (float ms), successes by status. */
export function cannonRun(
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
export async function cannon(
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

/** The share of the whole machine's CPU time spent idle over the next `ms`. */
export async function idleShare(ms: number): Promise<number> {
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
export const QUIET_IDLE = 0.9;

/**
 * Waits (at most `maxSeconds`) until the machine is quiet: right after the seed, the database is
 * still flushing and purging a million rows, which takes CPU from whichever server is measured
 * then, and more from the one that needs more CPU per request. Returns the seconds waited and the
 * last idle share.
 */
export async function quietMachine(maxSeconds: number): Promise<{ waited: number; idle: number }> {
  const t0 = performance.now();
  let idle = await idleShare(2000);
  while (idle < QUIET_IDLE && performance.now() - t0 < maxSeconds * 1000) idle = await idleShare(2000);
  return { waited: (performance.now() - t0) / 1000, idle };
}

/** Rounds of the alternating ours/baseline HTTP comparisons. */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Runs a and b alternately `rounds` times each; each side's run with the median rate. */
export async function alternating(
  a: () => Promise<Throughput>,
  b: () => Promise<Throughput>,
  rounds = ROUNDS,
): Promise<[Throughput, Throughput]> {
  const as: Throughput[] = [];
  const bs: Throughput[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const median = (runs: Throughput[]): Throughput => ({
    ...[...runs].sort((x, y) => x.perSecond - y.perSecond)[Math.floor(runs.length / 2)],
    rounds: runs.map((r) => r.perSecond),
  });
  return [median(as), median(bs)];
}

export const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

/**
 * Of an alternating comparison, the median of its rounds' ratios: each round runs ours and the
 * baseline back to back, so a change of the machine's speed between rounds (a shared host) cancels
 * out of the pair; the ratio of the two sides' medians would mix runs from different moments.
 * Else (one run each) the plain ratio.
 */
export function pairedRatio(a: Throughput, b: Throughput): number {
  const ra = a.rounds ?? [];
  const rb = b.rounds ?? [];
  if (ra.length === 0 || ra.length !== rb.length) return ratio(a.perSecond, b.perSecond);
  const each = ra.map((v, i) => ratio(v, rb[i])).sort((x, y) => x - y);
  return each[Math.floor(each.length / 2)];
}

/** The runs of an alternating comparison, for the report: each side's rates and each round's ratio. */
export function roundsText(ours: Throughput, base: Throughput): string {
  const a = ours.rounds ?? [];
  const b = base.rounds ?? [];
  const rate = (x: number[]) => x.map((v) => v.toFixed(0)).join(', ');
  return `runs of this one, in order: ours ${rate(a)}/s; baseline ${rate(b)}/s; ratio per round ${a
    .map((v, i) => (v / b[i]).toFixed(2))
    .join(', ')}`;
}

/** `db` pointed at an empty benchmark database named after `suffix` (SQLite files deleted, or dropped and created). */
export async function freshBenchDb(db: AppConfig['db'], suffix: string): Promise<AppConfig['db']> {
  const out = { ...db, migrationsRun: true, logging: false };
  if (out.type === 'sqlite') {
    const file = join('data', `bench${suffix}.sqlite`);
    for (const ext of ['', '-wal', '-shm']) rmSync(file + ext, { force: true });
    out.sqlitePath = file;
  } else {
    out.name = `${db.name}_bench${suffix.replace(/-/g, '_')}`;
    const c = await createConnection({
      host: out.host,
      port: out.port,
      user: out.user,
      password: out.password,
    });
    await c.query(`DROP DATABASE IF EXISTS \`${out.name}\``);
    await c.query(`CREATE DATABASE \`${out.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await c.end();
  }
  return out;
}

export async function benchConfig(base: AppConfig): Promise<AppConfig> {
  const db = await freshBenchDb(base.db, '');
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

/** Which server a process runs: the built API, or one of the bare baselines. */
export type ServerKind = 'api' | 'hello' | 'nest' | 'same-work';

export const SCRIPTS: Record<ServerKind, string> = {
  // the service as built by `npm run build` (dist/ holds the service only; the bench builds to dist-bench/)
  api: join(__dirname, '..', '..', 'dist', 'src', 'main.js'),
  hello: join(__dirname, 'baseline-server.js'),
  nest: join(__dirname, 'nest-baseline-server.js'),
  'same-work': join(__dirname, 'same-work-server.js'),
};

/** A server of `kind` in its own process on a free port against the bench database. */
export async function startServer(
  config: AppConfig,
  kind: ServerKind,
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const db = config.db;
  return ServerProcess.start(kind, SCRIPTS[kind], {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    JWT_SECRET_KEY: config.auth.jwtSecret,
    BCRYPT_ROUNDS: String(config.auth.bcryptRounds),
    // the run takes longer than an access token's default 15 minutes; its tokens are made at the start
    ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600),
    LOGIN_RATE_LIMIT: '100000',
    TRANSACTION_RATE_LIMIT: '1000000',
    OFFER_RATE_LIMIT: '1000000',
    QUOTE_RATE_LIMIT: '1000000',
    HOUSE_MAX_NET_USD: '100000000000',
    CONVERSION_DAILY_LIMIT_USD: '100000000000',
    // the bench's users record as established contributors do (their samples count), as before
    RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '0',
    RATE_CONTRIBUTOR_MIN_AGE_HOURS: '0',
    SCHEDULER_ENABLED: 'false',
    MIGRATIONS_RUN: 'false',
    DB_TYPE: db.type,
    // the server runs in an empty working directory of its own
    SQLITE_PATH: resolve(db.sqlitePath),
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_USER: db.user,
    DB_PASSWORD: db.password,
    DB_NAME: db.name,
    BASELINE: kind,
    ...extraEnv,
  });
}

/** A JSON POST over fetch (keep-alive): the answer's status and body. */
export async function post(
  base: string,
  path: string,
  token: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** `throughput()` after a discarded warm-up, like the autocannon runs. */
export async function warmThroughput(op: (client: number) => Promise<boolean>): Promise<Throughput> {
  const safe = (c: number) => op(c).catch(() => false);
  const warm = WARMUP_SECONDS > 0 ? await throughput(WARMUP_SECONDS, CLIENTS, safe) : null;
  return { ...(await throughput(SECONDS, CLIENTS, safe)), warmupOk: warm?.ok ?? 0 };
}
