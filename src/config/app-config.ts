import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The one place that reads process.env (ormconfig.ts goes through here too). */

export type DbType = 'sqlite' | 'mysql';

export interface DatabaseConfig {
  type: DbType;
  /** SQLite file path, or ':memory:'. */
  sqlitePath: string;
  host: string;
  port: number;
  user: string;
  password: string;
  name: string;
  migrationsRun: boolean;
  logging: boolean;
  /** Write every request's SQL statements to this file (DB_STATEMENT_LOG; the benchmark), or null. */
  statementLog: string | null;
  /** MySQL/MariaDB read replicas (DB_REPLICA_URLS) for read-only work; empty: none. */
  replicas: ReplicaConfig[];
  /** After a user's write, their reads stay on the primary this long (REPLICA_STICKY_MS). */
  replicaStickyMs: number;
  /** Replicas are read only while every one reports at most this lag (REPLICA_MAX_LAG_SECONDS). */
  replicaMaxLagSeconds: number;
  /** How often the replicas' status is read (REPLICA_CHECK_MS); 0: only at start (tests). */
  replicaCheckMs: number;
  /**
   * A MariaDB Galera cluster's nodes (DB_CLUSTER_URLS), in order of preference: writes go to the first
   * healthy one; empty: a single server (host, port).
   */
  cluster: ReplicaConfig[];
  /** A lost node is replaced within this (DB_FAILOVER_SECONDS). */
  failoverSeconds: number;
  /** How often the cluster's nodes are checked (DB_CLUSTER_CHECK_MS). */
  clusterCheckMs: number;
}

export interface ReplicaConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  name: string;
}

export interface AuthConfig {
  jwtSecret: string;
  accessTtlSeconds: number;
  freshTtlSeconds: number;
  refreshTtlSeconds: number;
  bcryptRounds: number;
  /** Wrong passwords in a row at a step-up check (POST /auth/fresh, PUT /user/password) before it locks. */
  passwordCheckMaxFailures: number;
  /** How long that lock lasts (and how long a wrong password counts towards it). */
  passwordCheckLockSeconds: number;
}

export interface RateLimitConfig {
  /** Window for the login, registration and refresh limits, in seconds. */
  authTtlSeconds: number;
  loginLimit: number;
  registerLimit: number;
  refreshLimit: number;
  /** GET /exchangeRate/history per client IP and window (a public range read). */
  historyLimit: number;
  historyTtlSeconds: number;
  /** Webhook creations, tests and retries per user and window. */
  webhookLimit: number;
  webhookTtlSeconds: number;
  redisUrl: string | null;
}

export interface MoneyConfig {
  /** Booked from funding to every new user, in minor units (cents). */
  startingBalanceUsd: bigint;
  startingBalanceLbp: bigint;
  /** POST /transaction per user and window. */
  transactionLimit: number;
  transactionTtlSeconds: number;
  /** Offer creation and acceptance (together) per user and window. */
  offerLimit: number;
  offerTtlSeconds: number;
}

export interface FundingConfig {
  /** Per user and UTC day, deposits (pending or completed) valued at the reference, minor units of USD. */
  depositDailyLimitUsd: bigint;
  /** Likewise for withdrawals. */
  withdrawalDailyLimitUsd: bigint;
  /** Deposit and withdrawal requests (together) per user and window. */
  rateLimit: number;
  rateLimitTtlSeconds: number;
}

export interface HouseConfig {
  /** The house quotes the mid-market reference minus (bid) or plus (ask) this percent. */
  spreadPercent: number;
  /** How long a quote is held. */
  quoteTtlSeconds: number;
  /** The house's net position in either currency may not pass this (USD, valued at the reference), minor units. */
  maxNetUsd: bigint;
  /** No quote when the newest counted (established) sample behind the reference is older than this. */
  referenceMaxAgeMinutes: number;
  /**
   * The guard window: the house sells USD at the highest published mid of the last this many minutes
   * (plus the spread) and buys at the lowest (minus it); every limit values LBP at that lowest mid.
   */
  guardMinutes: number;
  /** The house quotes nothing while the guard window's highest and lowest mids differ by more than this percent. */
  haltMovePercent: number;
  /** Per user and UTC day, the USD legs of conversions, minor units. */
  conversionDailyLimitUsd: bigint;
  /** Quotes and conversions (together) per user and window. */
  rateLimit: number;
  rateLimitTtlSeconds: number;
}

export interface RatesConfig {
  /** Window of GET /exchangeRate (the market rate). */
  marketWindowHours: number;
  /** Trailing window of the outlier baseline. */
  outlierWindowHours: number;
  /** A sample deviating from the baseline median by more than this percent is an outlier (a hard band). */
  outlierPercent: number;
  /** Inside the band, a robust z-score |x - median| / (1.4826 MAD) above this flags too... */
  outlierMadThreshold: number;
  /** ...when the sample also deviates by at least this percent. */
  outlierZMinPercent: number;
  /** Fewer accepted samples than this in the window: nothing is flagged. */
  outlierMinSamples: number;
  /**
   * Distinct contributors needed to publish a reference rate, and for the outlier baseline to flag
   * anything (an account counts once; admin and feed samples are contributors of their own).
   */
  minContributors: number;
  /** An account's samples below this USD volume (minor units) are dust: they count for nothing. */
  minSampleUsd: bigint;
  /**
   * An account is established (its samples count toward the reference) when an admin trusts it, or
   * when its confirmed deposits reach this much USD (minor units) and it is at least
   * `contributorMinAgeHours` old. Both 0: every active account is established (demos, tests).
   */
  contributorMinDepositUsd: bigint;
  contributorMinAgeHours: number;
  /** How often each instance writes the published reference into its per-minute history (ms). */
  historyFlushMs: number;
  /** How long a computed baseline may be reused (0 = every sample recomputes it). */
  baselineCacheSeconds: number;
  /**
   * How long a computed market rate may be reused (0 = only shared by concurrent requests). Writes
   * through this instance refresh it at once; this bounds staleness against other instances.
   */
  marketRateCacheMs: number;
}

export interface SchedulerConfig {
  /** Run the scheduled sweeps in this instance (false in tests, which call the jobs directly). */
  enabled: boolean;
  /** How long a sweep's lease lasts; a crashed holder is replaced after it. */
  leaseSeconds: number;
  /** Cron expressions (UTC) of the jobs. */
  cron: {
    idempotencyPurge: string;
    alertsSweep: string;
    watchlistSweep: string;
    offerExpiry: string;
    streamTicketPurge: string;
    webhookSweep: string;
  };
}

export interface WatchlistConfig {
  /** A direction item notifies when |24 h change| reaches this percent. */
  movePercent: number;
  /** A threshold item's crossing back must clear the threshold by this percent (no flapping). */
  hysteresisPercent: number;
}

export interface BackupConfig {
  /** Where backup files live (created when missing). */
  dir: string;
  /** How many regular backups to keep (older ones are deleted after each backup); safety backups likewise. */
  keep: number;
  /** Cron expression (UTC) of the scheduled backup, or null for none. */
  cron: string | null;
}

export interface MetricsConfig {
  /** Count requests and serve GET /metrics (METRICS_ENABLED, default true). */
  enabled: boolean;
  /** Bearer token that GET /metrics requires; null: the route refuses everyone (use METRICS_PORT). */
  token: string | null;
  /** A plain HTTP listener on 127.0.0.1 serving /metrics without a token; 0: none. */
  port: number;
}

export interface StreamConfig {
  /** Open live streams (GET /stream) per user on one instance. */
  maxPerUser: number;
  /** How long a ticket from POST /stream/ticket can be used (once). */
  ticketTtlSeconds: number;
  /** A comment line every so often keeps proxies from closing a quiet stream; the session is re-checked then. */
  heartbeatSeconds: number;
  /** Tickets per user and window. */
  ticketRateLimit: number;
  ticketRateLimitTtlSeconds: number;
}

/** What one client may hold of the server (src/common/http/connection-guard.ts). */
export interface ConnectionsConfig {
  /** The request line and headers must arrive within this (ms). */
  headersTimeoutMs: number;
  /** The whole request must arrive within this (ms); streams and downloads (answers) are not cut. */
  requestTimeoutMs: number;
  /** Idle keep-alive sockets close after this (ms). */
  keepAliveTimeoutMs: number;
  /** Open connections from one client (by TRUST_PROXY's idea of the client) at once. */
  maxPerIp: number;
  /** Open connections in all (below the process's file limit). */
  maxTotal: number;
}

/** Webhooks (src/webhooks). */
export interface WebhooksConfig {
  /** Allow http:// endpoints (tests, a receiver on the same host); https only otherwise. */
  allowHttp: boolean;
  /** Allow private, loopback and link-local targets (tests); refused otherwise, also at connect time. */
  allowPrivate: boolean;
  maxPerUser: number;
  /** After a rotation, the previous secret also signs for this long. */
  secretOverlapSeconds: number;
  /** The first retry waits about this long, each next one twice as long (with jitter). */
  retryBaseSeconds: number;
  /** After this many attempts a delivery is FAILED. */
  maxAttempts: number;
  /** One attempt: connect, send, and the answer's status within this. */
  timeoutMs: number;
  /** An endpoint whose every attempt failed for this long is disabled (its owner notified). */
  disableAfterHours: number;
}

export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  bodyLimitBytes: number;
  /** Body limit of the bulk rate import (JSON or CSV). */
  importBodyLimitBytes: number;
  corsOrigins: string[];
  logLevel: string;
  /** false, a hop count, or the proxies' addresses/CIDRs (never blanket trust: X-Forwarded-For is forgeable). */
  trustProxy: boolean | number | string[];
  connections: ConnectionsConfig;
  db: DatabaseConfig;
  auth: AuthConfig;
  rateLimit: RateLimitConfig;
  adminBootstrap: { userName: string; password: string } | null;
  money: MoneyConfig;
  funding: FundingConfig;
  house: HouseConfig;
  rates: RatesConfig;
  scheduler: SchedulerConfig;
  watchlist: WatchlistConfig;
  backup: BackupConfig;
  metrics: MetricsConfig;
  stream: StreamConfig;
  webhooks: WebhooksConfig;
  /** How long a shutdown waits for requests in flight and running jobs before it closes anyway. */
  shutdownTimeoutMs: number;
  version: string;
  /** Warnings to print once the logger is up (e.g. the development JWT secret). */
  warnings: string[];
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export const DEFAULT_JWT_SECRET = 'change-me-dev-secret-do-not-use-in-production';

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string, fallback: string): string {
  const v = env[key];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

/** A non-negative amount in major units with at most 2 decimals, as minor units. */
function money(env: Env, key: string): bigint {
  return moneyOr(env, key, 0n);
}

/** A non-negative amount in major units (at most 2 decimals), as minor units; `fallback` when unset. */
function moneyOr(env: Env, key: string, fallback: bigint): bigint {
  const raw = (env[key] ?? '').trim();
  if (raw === '') return fallback;
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(raw);
  if (!m) throw new ConfigError(`${key} must be a non-negative amount with at most 2 decimals, got "${raw}"`);
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

function num(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new ConfigError(`${key} must be a number between ${min} and ${max}, got "${raw}"`);
  return n;
}

/** A 5- or 6-field cron expression (checked again by the scheduler when it registers the job). */
function cron(env: Env, key: string, fallback: string): string {
  const v = str(env, key, fallback).trim();
  const fields = v.split(/\s+/);
  if (fields.length < 5 || fields.length > 6 || !fields.every((f) => /^[\d*/,\-A-Za-z?LW#]+$/.test(f))) {
    throw new ConfigError(`${key} must be a cron expression like "0 * * * *", got "${v}"`);
  }
  return v;
}

/**
 * TRUST_PROXY: false (default), a number of proxy hops, or a comma-separated list of proxy addresses
 * or CIDRs. `true` is refused: it would take any client's X-Forwarded-For as its address.
 */
function trustProxy(env: Env): boolean | number | string[] {
  const raw = str(env, 'TRUST_PROXY', 'false').trim();
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  if (/^(true|yes|on)$/i.test(raw)) {
    throw new ConfigError(
      'TRUST_PROXY=true would trust forged X-Forwarded-For headers: give the hop count (e.g. 1) or the proxy addresses',
    );
  }
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0 || !list.every((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s))) {
    throw new ConfigError(
      `TRUST_PROXY must be false, a hop count or a list of proxy addresses/CIDRs, got "${raw}"`,
    );
  }
  return list;
}

function connections(env: Env): ConnectionsConfig {
  const c: ConnectionsConfig = {
    headersTimeoutMs: int(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
    maxPerIp: int(env, 'MAX_CONNECTIONS_PER_IP', 256, 1, 1_000_000),
    maxTotal: int(env, 'MAX_CONNECTIONS', 10_000, 1, 10_000_000),
  };
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new ConfigError(
      'HEADERS_TIMEOUT_MS must not be longer than REQUEST_TIMEOUT_MS (the headers are part of the request)',
    );
  }
  return c;
}

function parseDatabaseUrl(url: string): Partial<DatabaseConfig> & { type: DbType } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL');
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme === 'sqlite') {
    const p = decodeURIComponent(u.host + u.pathname);
    return { type: 'sqlite', sqlitePath: p === '' ? ':memory:' : p };
  }
  if (scheme === 'mysql' || scheme === 'mariadb') {
    return {
      type: 'mysql',
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
      name: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'exchange',
    };
  }
  throw new ConfigError(`DATABASE_URL scheme must be mysql:// or sqlite://, got "${scheme}"`);
}

/**
 * DB_CLUSTER_URLS: the Galera nodes, mysql:// URLs in order of preference (database: DB_NAME unless a
 * URL names one). The first is the initial host; DB_TYPE becomes mysql.
 */
function clusterConfig(env: Env, db: DatabaseConfig): DatabaseConfig {
  const urls = str(env, 'DB_CLUSTER_URLS', '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length === 0) return db;
  if (db.replicas.length > 0)
    throw new ConfigError('DB_CLUSTER_URLS and DB_REPLICA_URLS cannot be used together');
  const cluster = urls.map((u) => {
    const parsed = parseDatabaseUrl(u);
    if (parsed.type !== 'mysql')
      throw new ConfigError(`DB_CLUSTER_URLS entries must be mysql:// URLs, got "${u}"`);
    return {
      host: parsed.host ?? '127.0.0.1',
      port: parsed.port ?? 3306,
      user: parsed.user ?? db.user,
      password: parsed.password ?? '',
      name: new URL(u).pathname.replace(/^\//, '') === '' ? db.name : (parsed.name ?? db.name),
    };
  });
  const first = cluster[0];
  return {
    ...db,
    type: 'mysql',
    cluster,
    host: first.host,
    port: first.port,
    user: first.user,
    password: first.password,
    name: first.name,
  };
}

function replicaConfig(
  env: Env,
  db: DatabaseConfig,
): Pick<DatabaseConfig, 'replicas' | 'replicaStickyMs' | 'replicaMaxLagSeconds' | 'replicaCheckMs'> {
  const urls = str(env, 'DB_REPLICA_URLS', '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length > 0 && db.type !== 'mysql') {
    throw new ConfigError('DB_REPLICA_URLS needs DB_TYPE=mysql (SQLite has no replicas)');
  }
  const replicas = urls.map((u) => {
    const parsed = parseDatabaseUrl(u);
    if (parsed.type !== 'mysql')
      throw new ConfigError(`DB_REPLICA_URLS entries must be mysql:// URLs, got "${u}"`);
    return {
      host: parsed.host ?? '127.0.0.1',
      port: parsed.port ?? 3306,
      user: parsed.user ?? db.user,
      password: parsed.password ?? '',
      // a replica holds the primary's database: without a path, the same name
      name: new URL(u).pathname.replace(/^\//, '') === '' ? db.name : (parsed.name ?? db.name),
    };
  });
  return {
    replicas,
    replicaStickyMs: int(env, 'REPLICA_STICKY_MS', 5000, 0, 600_000),
    replicaMaxLagSeconds: int(env, 'REPLICA_MAX_LAG_SECONDS', 1, 0, 3600),
    replicaCheckMs: int(env, 'REPLICA_CHECK_MS', 1000, 0, 600_000),
  };
}

function readVersion(): string {
  // package.json sits two levels above both src/config and dist/src/config.
  for (const rel of ['../../package.json', '../../../package.json']) {
    const p = resolve(__dirname, rel);
    if (existsSync(p)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pkg = require(p) as { version?: string; name?: string };
      if (pkg.name === 'exchange-rate-api') return pkg.version ?? '0.0.0';
    }
  }
  return '0.0.0';
}

export function loadConfig(env: Env): AppConfig {
  const nodeEnvRaw = str(env, 'NODE_ENV', 'development');
  if (!['development', 'production', 'test'].includes(nodeEnvRaw)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${nodeEnvRaw}"`);
  }
  const nodeEnv = nodeEnvRaw as AppConfig['nodeEnv'];
  const warnings: string[] = [];

  const jwtSecret = str(env, 'JWT_SECRET_KEY', '');
  if (nodeEnv === 'production') {
    if (jwtSecret === '' || jwtSecret === DEFAULT_JWT_SECRET) {
      throw new ConfigError(
        'JWT_SECRET_KEY must be set to a private value in production (it is missing or the default)',
      );
    }
    if (jwtSecret.length < 32)
      throw new ConfigError('JWT_SECRET_KEY must be at least 32 characters in production');
  } else if (jwtSecret === '' || jwtSecret === DEFAULT_JWT_SECRET) {
    warnings.push('JWT_SECRET_KEY is not set: using the development default; never do this in production');
  }

  const dbTypeRaw = str(env, 'DB_TYPE', 'sqlite');
  if (dbTypeRaw !== 'sqlite' && dbTypeRaw !== 'mysql') {
    throw new ConfigError(`DB_TYPE must be sqlite or mysql, got "${dbTypeRaw}"`);
  }
  let db: DatabaseConfig = {
    type: dbTypeRaw,
    sqlitePath: str(env, 'SQLITE_PATH', 'data/exchange.sqlite'),
    host: str(env, 'DB_HOST', '127.0.0.1'),
    port: int(env, 'DB_PORT', 3306, 1, 65535),
    user: str(env, 'DB_USER', 'root'),
    password: env.DB_PASSWORD ?? '',
    name: str(env, 'DB_NAME', 'exchange'),
    migrationsRun: bool(env, 'MIGRATIONS_RUN', true),
    logging: bool(env, 'DB_LOGGING', false),
    statementLog: str(env, 'DB_STATEMENT_LOG', '') || null,
    replicas: [],
    replicaStickyMs: 5000,
    replicaMaxLagSeconds: 1,
    replicaCheckMs: 1000,
    cluster: [],
    failoverSeconds: int(env, 'DB_FAILOVER_SECONDS', 10, 1, 600),
    clusterCheckMs: int(env, 'DB_CLUSTER_CHECK_MS', 500, 50, 60_000),
  };
  const url = str(env, 'DATABASE_URL', '');
  if (url !== '') db = { ...db, ...parseDatabaseUrl(url) };
  db = { ...db, ...replicaConfig(env, db) };
  db = clusterConfig(env, db);

  const corsOrigins = str(env, 'CORS_ORIGINS', 'http://localhost:3000,http://127.0.0.1:3000')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

  const adminUser = str(env, 'ADMIN_USER_NAME', '');
  const adminPassword = str(env, 'ADMIN_PASSWORD', '');
  if ((adminUser === '') !== (adminPassword === '')) {
    throw new ConfigError('ADMIN_USER_NAME and ADMIN_PASSWORD must be set together');
  }

  return {
    nodeEnv,
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 5000, 0, 65535),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 100 * 1024, 1024, 50 * 1024 * 1024),
    importBodyLimitBytes: int(env, 'IMPORT_BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    corsOrigins,
    logLevel: str(env, 'LOG_LEVEL', nodeEnv === 'test' ? 'silent' : 'info'),
    trustProxy: trustProxy(env),
    connections: connections(env),
    db,
    auth: {
      jwtSecret: jwtSecret === '' ? DEFAULT_JWT_SECRET : jwtSecret,
      accessTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 10, 24 * 3600),
      freshTtlSeconds: int(env, 'FRESH_TOKEN_TTL_SECONDS', 5 * 60, 0, 24 * 3600),
      refreshTtlSeconds: int(env, 'REFRESH_TOKEN_TTL_SECONDS', 24 * 3600, 60, 90 * 24 * 3600),
      bcryptRounds: int(env, 'BCRYPT_ROUNDS', 12, 4, 15),
      passwordCheckMaxFailures: int(env, 'PASSWORD_CHECK_MAX_FAILURES', 5, 1, 1000),
      passwordCheckLockSeconds: int(env, 'PASSWORD_CHECK_LOCK_SECONDS', 15 * 60, 1, 7 * 24 * 3600),
    },
    rateLimit: {
      authTtlSeconds: int(env, 'AUTH_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
      loginLimit: int(env, 'LOGIN_RATE_LIMIT', 5, 1, 100000),
      registerLimit: int(env, 'REGISTER_RATE_LIMIT', 5, 1, 100000),
      refreshLimit: int(env, 'REFRESH_RATE_LIMIT', 5, 1, 100000),
      historyLimit: int(env, 'HISTORY_RATE_LIMIT', 60, 1, 1_000_000),
      historyTtlSeconds: int(env, 'HISTORY_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
      webhookLimit: int(env, 'WEBHOOK_RATE_LIMIT', 20, 1, 1_000_000),
      webhookTtlSeconds: int(env, 'WEBHOOK_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
      redisUrl: str(env, 'REDIS_URL', '') || null,
    },
    adminBootstrap: adminUser === '' ? null : { userName: adminUser, password: adminPassword },
    money: {
      startingBalanceUsd: money(env, 'STARTING_BALANCE_USD'),
      startingBalanceLbp: money(env, 'STARTING_BALANCE_LBP'),
      transactionLimit: int(env, 'TRANSACTION_RATE_LIMIT', 10, 1, 1_000_000),
      transactionTtlSeconds: int(env, 'TRANSACTION_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
      offerLimit: int(env, 'OFFER_RATE_LIMIT', 20, 1, 1_000_000),
      offerTtlSeconds: int(env, 'OFFER_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
    },
    funding: {
      depositDailyLimitUsd: moneyOr(env, 'DEPOSIT_DAILY_LIMIT_USD', 10_000n * 100n),
      withdrawalDailyLimitUsd: moneyOr(env, 'WITHDRAWAL_DAILY_LIMIT_USD', 10_000n * 100n),
      rateLimit: int(env, 'FUNDING_RATE_LIMIT', 10, 1, 1_000_000),
      rateLimitTtlSeconds: int(env, 'FUNDING_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
    },
    house: {
      spreadPercent: num(env, 'HOUSE_SPREAD_PERCENT', 1, 0.01, 20),
      quoteTtlSeconds: int(env, 'QUOTE_TTL_SECONDS', 30, 1, 600),
      maxNetUsd: moneyOr(env, 'HOUSE_MAX_NET_USD', 100_000n * 100n),
      referenceMaxAgeMinutes: int(env, 'QUOTE_REFERENCE_MAX_AGE_MINUTES', 60, 1, 30 * 24 * 60),
      guardMinutes: int(env, 'QUOTE_GUARD_MINUTES', 60, 1, 7 * 24 * 60),
      haltMovePercent: num(env, 'HOUSE_HALT_MOVE_PERCENT', 10, 0.1, 1000),
      conversionDailyLimitUsd: moneyOr(env, 'CONVERSION_DAILY_LIMIT_USD', 10_000n * 100n),
      rateLimit: int(env, 'QUOTE_RATE_LIMIT', 30, 1, 1_000_000),
      rateLimitTtlSeconds: int(env, 'QUOTE_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
    },
    rates: {
      marketWindowHours: int(env, 'MARKET_RATE_WINDOW_HOURS', 72, 1, 24 * 366),
      outlierWindowHours: int(env, 'OUTLIER_WINDOW_HOURS', 72, 1, 24 * 366),
      outlierPercent: num(env, 'OUTLIER_PERCENT', 20, 0.1, 1000),
      outlierMadThreshold: num(env, 'OUTLIER_MAD_THRESHOLD', 3.5, 0, 1000),
      outlierZMinPercent: num(env, 'OUTLIER_Z_MIN_PERCENT', 5, 0, 1000),
      outlierMinSamples: int(env, 'OUTLIER_MIN_SAMPLES', 5, 1, 100_000),
      minContributors: int(env, 'RATE_MIN_CONTRIBUTORS', 3, 1, 10_000),
      minSampleUsd: moneyOr(env, 'RATE_MIN_SAMPLE_USD', 10n * 100n),
      contributorMinDepositUsd: moneyOr(env, 'RATE_CONTRIBUTOR_MIN_DEPOSIT_USD', 50n * 100n),
      contributorMinAgeHours: num(env, 'RATE_CONTRIBUTOR_MIN_AGE_HOURS', 24, 0, 24 * 3660),
      historyFlushMs: int(env, 'REFERENCE_HISTORY_FLUSH_MS', 1000, 50, 60_000),
      baselineCacheSeconds: int(env, 'OUTLIER_BASELINE_CACHE_SECONDS', 5, 0, 3600),
      marketRateCacheMs: int(env, 'MARKET_RATE_CACHE_MS', 1000, 0, 60_000),
    },
    scheduler: {
      enabled: bool(env, 'SCHEDULER_ENABLED', nodeEnv !== 'test'),
      leaseSeconds: int(env, 'SCHEDULER_LEASE_SECONDS', 300, 5, 24 * 3600),
      cron: {
        idempotencyPurge: cron(env, 'CRON_IDEMPOTENCY_PURGE', '17 * * * *'),
        alertsSweep: cron(env, 'CRON_ALERTS_SWEEP', '* * * * *'),
        watchlistSweep: cron(env, 'CRON_WATCHLIST_SWEEP', '*/5 * * * *'),
        offerExpiry: cron(env, 'CRON_OFFER_EXPIRY', '* * * * *'),
        streamTicketPurge: cron(env, 'CRON_STREAM_TICKET_PURGE', '*/15 * * * *'),
        webhookSweep: cron(env, 'CRON_WEBHOOK_SWEEP', '*/5 * * * * *'),
      },
    },
    watchlist: {
      movePercent: num(env, 'WATCHLIST_MOVE_PERCENT', 5, 0.01, 1000),
      hysteresisPercent: num(env, 'WATCHLIST_HYSTERESIS_PERCENT', 0.25, 0, 50),
    },
    backup: {
      dir: str(env, 'BACKUP_DIR', './backups'),
      keep: int(env, 'BACKUP_KEEP', 14, 1, 10_000),
      cron: str(env, 'BACKUP_CRON', '') === '' ? null : cron(env, 'BACKUP_CRON', ''),
    },
    metrics: metricsConfig(env),
    stream: {
      maxPerUser: int(env, 'STREAM_MAX_PER_USER', 3, 1, 100),
      ticketTtlSeconds: int(env, 'STREAM_TICKET_TTL_SECONDS', 60, 5, 3600),
      heartbeatSeconds: int(env, 'STREAM_HEARTBEAT_SECONDS', 15, 1, 300),
      ticketRateLimit: int(env, 'STREAM_TICKET_RATE_LIMIT', 10, 1, 1_000_000),
      ticketRateLimitTtlSeconds: int(env, 'STREAM_TICKET_RATE_LIMIT_TTL_SECONDS', 60, 1, 24 * 3600),
    },
    webhooks: {
      allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
      allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      maxPerUser: int(env, 'WEBHOOK_MAX_PER_USER', 5, 1, 100),
      secretOverlapSeconds: int(env, 'WEBHOOK_SECRET_OVERLAP_SECONDS', 24 * 3600, 0, 30 * 24 * 3600),
      retryBaseSeconds: num(env, 'WEBHOOK_RETRY_BASE_SECONDS', 30, 0.05, 24 * 3600),
      maxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 5000, 100, 60_000),
      disableAfterHours: num(env, 'WEBHOOK_DISABLE_AFTER_HOURS', 24, 0.001, 24 * 365),
    },
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    version: readVersion(),
    warnings,
  };
}

function metricsConfig(env: Env): MetricsConfig {
  const token = str(env, 'METRICS_TOKEN', '');
  if (token !== '' && token.length < 16)
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters');
  return {
    enabled: bool(env, 'METRICS_ENABLED', true),
    token: token === '' ? null : token,
    port: int(env, 'METRICS_PORT', 0, 0, 65535),
  };
}

/** Loads `.env` (when present) into the process environment, then validates it. */
export function loadConfigFromProcess(): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return loadConfig(process.env);
}

/** For `npm run admin:create`: the password may come from ADMIN_PASSWORD instead of stdin. */
export function adminPasswordFromEnv(): string | null {
  return process.env.ADMIN_PASSWORD || null;
}

/** For `npm run admin:create`: the user name when not given as an argument. */
export function adminUserNameFromEnv(): string | null {
  return process.env.ADMIN_USER_NAME || null;
}
