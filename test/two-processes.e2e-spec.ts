import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { call, type CallOptions, type HttpResult, randomLoopback } from './support/http-client';
import { uniqueName } from './factories/users';
import { redisUp } from './support/redis';
import { BUILT_MAIN, ensureBuilt, ServerProcess, sleep } from './support/server-process';
import { mysqlAdmin as mysqlAdminConnection } from './test-app';

/**
 * Two real server processes (the built `node dist/src/main.js`) on one MariaDB database and one
 * Redis, as a load-balanced deployment runs them: the login rate limit is one budget across both,
 * an alert fires once however many evaluations race on both, and a token revoked through one is
 * refused by the other. Separate OS processes, because two Nest apps in one process share
 * passport's global strategies. Runs in the MariaDB e2e pass (E2E_DB=mysql); needs Redis at
 * REDIS_URL_TEST (default redis://127.0.0.1:6379), required when REQUIRE_REDIS=true (CI).
 */

jest.setTimeout(60_000);

const ON_MYSQL = process.env.E2E_DB === 'mysql';
const LOGIN_LIMIT = 5;
/** A Redis database of its own, so these counters never meet the other suites' (database 0). */
const REDIS_DB = 11;
const REDIS_BASE = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'correct-horse-1';

const db = {
  host: process.env.DB_HOST ?? '127.0.0.1',
  port: Number(process.env.DB_PORT ?? 3306),
  user: process.env.DB_USER ?? 'root',
  password: process.env.DB_PASSWORD ?? '',
};

interface Tokens {
  access_token: string;
  refresh_token: string;
}
interface Alert {
  id: number;
  is_active: boolean;
  triggered_at: string | null;
  trigger_rate: number | null;
}
interface Notification {
  event_type: string;
  ref_type: string | null;
  ref_id: number | null;
}
interface ApiError {
  code: string;
}

function redisUrl(): string {
  const u = new URL(REDIS_BASE);
  u.pathname = `/${REDIS_DB}`;
  return u.toString();
}

async function mysqlAdmin(sql: string): Promise<void> {
  await mysqlAdminConnection((c) => c.query(sql));
}

/** |actual - expected| <= 1, failing with the context (the statuses seen) when not. */
function withinOne(actual: number, expected: number, context: string): void {
  if (Math.abs(actual - expected) > 1) {
    throw new Error(`expected ${expected} (within one), got ${actual}; ${context}`);
  }
}

/**
 * Watches the alerts-sweep lease row for `ms`: every sweep claims it, writing its holder
 * (`host:pid:id`) and acquired_at. Returns the distinct sweeps seen and which pids ran them.
 */
async function watchSweeps(database: string, ms: number): Promise<{ sweeps: number; pids: number[] }> {
  const c = await createConnection({ ...db, database, dateStrings: true });
  const seen = new Set<string>();
  const pids = new Set<number>();
  try {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const [rows] = await c.query<RowDataPacket[]>(
        "SELECT holder, acquired_at FROM scheduler_leases WHERE job_name = 'alerts-sweep'",
      );
      for (const row of rows) {
        const holder = String(row.holder);
        seen.add(`${holder} ${String(row.acquired_at)}`);
        pids.add(Number(holder.split(':')[1]));
      }
      await sleep(40);
    }
  } finally {
    await c.end();
  }
  return { sweeps: seen.size, pids: [...pids].sort((x, y) => x - y) };
}

(ON_MYSQL ? describe : describe.skip)(
  ON_MYSQL
    ? 'two server processes on one MariaDB and one Redis'
    : 'two server processes on one MariaDB and one Redis (skipped: runs only with E2E_DB=mysql)',
  () => {
    const dbName = `e2e_2proc_${process.pid}_${Date.now() % 100000}`;
    const redis = redisUrl();
    let a: ServerProcess | undefined;
    let b: ServerProcess | undefined;
    let dbCreated = false;
    let ready = false;
    const admin = { userName: uniqueName('root'), password: 'admin-password-1' };

    const server = (s: ServerProcess | undefined): ServerProcess => {
      if (!s) throw new Error('server not started');
      return s;
    };
    const req = (s: ServerProcess | undefined, method: string, path: string, opts?: CallOptions) =>
      call(server(s).base, method, path, opts);
    const expectStatus = (res: HttpResult, status: number, what: string) => {
      if (res.status !== status)
        throw new Error(`${what}: expected ${status}, got ${res.status} ${res.body}`);
    };
    const register = async (via: ServerProcess | undefined, from: string) => {
      const userName = uniqueName('u');
      const reg = await req(via, 'POST', '/user', {
        from,
        body: { user_name: userName, password: PASSWORD },
      });
      expectStatus(reg, 201, 'register');
      return { id: reg.json<{ id: number }>().id, userName };
    };
    /** Registers a user through `via` and logs in from `from` through `loginVia`. */
    const newUser = async (via: ServerProcess | undefined, from: string, loginVia = via) => {
      const { id, userName } = await register(via, from);
      const login = await req(loginVia, 'POST', '/login', {
        from,
        body: { user_name: userName, password: PASSWORD },
      });
      expectStatus(login, 200, 'login');
      return { id, userName, ...login.json<Tokens>() };
    };

    beforeAll(async () => {
      const t0 = Date.now();
      if (!(await redisUp(redis))) {
        if (process.env.REQUIRE_REDIS === 'true')
          throw new Error(`Redis is required but not reachable at ${redis}`);
        console.warn(`Redis not reachable at ${redis}: the two-process tests are skipped`);
        return;
      }
      const build = await ensureBuilt();
      await mysqlAdmin(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      dbCreated = true;
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        JWT_SECRET_KEY: 'two-processes-e2e-secret-0123456789abcdef',
        BCRYPT_ROUNDS: '4',
        // the open crowd (every account's records count), as in test/test-app.ts
        RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '0',
        RATE_CONTRIBUTOR_MIN_AGE_HOURS: '0',
        DB_TYPE: 'mysql',
        DB_HOST: db.host,
        DB_PORT: String(db.port),
        DB_USER: db.user,
        DB_PASSWORD: db.password,
        DB_NAME: dbName,
        REDIS_URL: redis,
        LOGIN_RATE_LIMIT: String(LOGIN_LIMIT),
        AUTH_RATE_LIMIT_TTL_SECONDS: '60',
        REGISTER_RATE_LIMIT: '1000',
        REFRESH_RATE_LIMIT: '1000',
        TRANSACTION_RATE_LIMIT: '1000',
        // one trader's records publish the reference here: this test is about two processes
        RATE_MIN_CONTRIBUTORS: '1',
        SCHEDULER_ENABLED: 'true',
        CRON_ALERTS_SWEEP: '* * * * * *',
      };
      // A migrates the fresh database and creates the first admin; B then joins the same database.
      a = await ServerProcess.start('A', BUILT_MAIN, {
        ...env,
        MIGRATIONS_RUN: 'true',
        ADMIN_USER_NAME: admin.userName,
        ADMIN_PASSWORD: admin.password,
      });
      b = await ServerProcess.start('B', BUILT_MAIN, { ...env, MIGRATIONS_RUN: 'false' });
      ready = true;
      console.log(
        `two-processes: ${build.built ? `built dist/ in ${build.ms} ms, ` : ''}both servers up in ${Date.now() - t0} ms (A pid ${a.pid}, B pid ${b.pid})`,
      );
    }, 180_000);

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      if (dbCreated) await mysqlAdmin(`DROP DATABASE IF EXISTS \`${dbName}\``);
    });

    /** Wraps a test body: skipped without Redis, and with both servers' output when it fails. */
    const withLogs = (fn: () => Promise<void>) => async () => {
      if (!ready) {
        console.warn('two-processes: not started (see beforeAll), skipped');
        return;
      }
      try {
        await fn();
      } catch (err) {
        const logs = [a, b].map((s) => s?.logs() ?? '').join('\n');
        if (err instanceof Error) err.message = `${err.message}\n\n${logs}`;
        throw err;
      }
    };

    it(
      'the login limit per user name is one budget across both processes',
      withLogs(async () => {
        // registered, never logged in: every attempt below counts against its name
        const victim = await register(a, randomLoopback());
        // Alternate servers; a new client address each time, so only the per-name counter can trip.
        const attempts: { server: 'A' | 'B'; res: HttpResult }[] = [];
        for (let i = 0; i < 2 * LOGIN_LIMIT; i++) {
          const on = i % 2 === 0 ? 'A' : 'B';
          const res = await req(on === 'A' ? a : b, 'POST', '/login', {
            from: randomLoopback(),
            body: { user_name: victim.userName, password: 'wrong-password-1' },
          });
          attempts.push({ server: on, res });
        }
        const statuses = attempts.map((x) => `${x.server}:${x.res.status}`).join(' ');
        const first429 = attempts.findIndex((x) => x.res.status === 429);
        // within one of the limit (exactly the limit here, as the attempts are sequential). Attempts
        // alternate servers, so neither process saw LIMIT of them by itself: a per-process counter
        // would have let LIMIT through on each (2 x LIMIT in all); the block came from the shared one.
        withinOne(
          first429 < 0 ? attempts.length : first429,
          LOGIN_LIMIT,
          `answers before the first 429: ${statuses}`,
        );
        const before = attempts.slice(0, first429);
        expect(before.every((x) => x.res.status === 401)).toBe(true);
        // Once blocked, blocked on both.
        const after = attempts.slice(first429);
        expect(after.map((x) => x.res.status)).toEqual(after.map(() => 429));
        expect(new Set(after.map((x) => x.server))).toEqual(new Set(['A', 'B']));
        const blocked = after[0].res;
        expect(blocked.json<ApiError>().code).toBe('RATE_LIMITED');
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
        // Even the right password, from yet another address, is held back on either server.
        for (const s of [a, b]) {
          const res = await req(s, 'POST', '/login', {
            from: randomLoopback(),
            body: { user_name: victim.userName, password: PASSWORD },
          });
          expect(res.status).toBe(429);
        }
      }),
    );

    it(
      'the login limit per client address holds for a concurrent burst split over both processes',
      withLogs(async () => {
        const from = randomLoopback();
        const burst = await Promise.all(
          Array.from({ length: 4 * LOGIN_LIMIT }, (_, i) =>
            req(i % 2 === 0 ? a : b, 'POST', '/login', {
              from,
              body: { user_name: uniqueName('nobody'), password: 'wrong-password-1' },
            }),
          ),
        );
        const statuses = burst.map((r, i) => `${i % 2 === 0 ? 'A' : 'B'}:${r.status}`).join(' ');
        const passed = burst.filter((r) => r.status !== 429);
        withinOne(
          passed.length,
          LOGIN_LIMIT,
          `answers other than 429 in a burst from one address: ${statuses}`,
        );
        expect(passed.map((r) => r.status)).toEqual(passed.map(() => 401));
      }),
    );

    it(
      'an alert fires once while transactions race through both processes, with both schedulers sweeping every second',
      withLogs(async () => {
        const adminLogin = await req(a, 'POST', '/login', {
          from: randomLoopback(),
          body: { user_name: admin.userName, password: admin.password },
        });
        expectStatus(adminLogin, 200, 'admin login');
        const adminToken = adminLogin.json<Tokens>().access_token;
        const trader = await newUser(b, randomLoopback(), a);

        const alertIds: number[] = [];
        for (const [i, threshold] of [89000, 89500, 90000].entries()) {
          const res = await req(i % 2 === 0 ? a : b, 'POST', '/alerts', {
            token: trader.access_token,
            body: { direction: 'usd_to_lbp', condition: 'above', threshold },
          });
          expectStatus(res, 201, 'create alert');
          alertIds.push(res.json<{ id: number }>().id);
        }

        // Every transaction moves the market to 90000, which meets all three thresholds; each one
        // evaluates the alerts after it commits, on whichever server took it, all at once.
        const txs = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            req(i % 2 === 0 ? a : b, 'POST', '/transaction', {
              token: trader.access_token,
              body: { usd_amount: 10, lbp_amount: 900000, usd_to_lbp: true },
            }),
          ),
        );
        expect(txs.map((r) => r.status)).toEqual(txs.map(() => 201));

        // Both schedulers keep sweeping (every second) after the alerts fired: watch them do it.
        const swept = await watchSweeps(dbName, 2_500);
        expect(swept.sweeps).toBeGreaterThanOrEqual(2);
        for (const pid of swept.pids) expect([server(a).pid, server(b).pid]).toContain(pid);
        console.log(
          `two-processes: ${swept.sweeps} alert sweeps seen after the alerts fired, by pid(s) ${swept.pids.join(', ')}`,
        );

        for (const s of [a, b]) {
          const notes = await req(s, 'GET', '/notifications?limit=200', { token: trader.access_token });
          expectStatus(notes, 200, 'notifications');
          const fired = notes
            .json<Notification[]>()
            .filter((n) => n.event_type === 'ALERT_TRIGGERED')
            .map((n) => ({ ref_type: n.ref_type, ref_id: n.ref_id }))
            .sort((x, y) => (x.ref_id ?? 0) - (y.ref_id ?? 0));
          expect(fired).toEqual(alertIds.map((id) => ({ ref_type: 'alert', ref_id: id })));

          const alerts = await req(s, 'GET', '/alerts', { token: trader.access_token });
          expect(alerts.json<Alert[]>()).toHaveLength(alertIds.length);
          for (const alert of alerts.json<Alert[]>()) {
            expect(alert).toMatchObject({ is_active: false, trigger_rate: 90000 });
            expect(typeof alert.triggered_at).toBe('string');
          }
        }
        // and one audit row per alert
        const audit = await req(a, 'GET', '/admin/logs?event_type=ALERT_TRIGGERED&limit=200', {
          token: adminToken,
        });
        expectStatus(audit, 200, 'admin logs');
        expect(audit.json<{ total: number }>().total).toBe(alertIds.length);
      }),
    );

    it(
      'a token revoked through one process is refused by the other',
      withLogs(async () => {
        const from = randomLoopback();
        const user = await newUser(a, from);
        expect((await req(b, 'GET', '/whoami', { token: user.access_token })).status).toBe(200);

        // log out on A: the access token and the session's refresh token are dead on B
        expectStatus(await req(a, 'POST', '/logout', { token: user.access_token }), 200, 'logout');
        const whoami = await req(b, 'GET', '/whoami', { token: user.access_token });
        expect(whoami.status).toBe(401);
        expect(whoami.json<ApiError>().code).toBe('TOKEN_REVOKED');
        expect((await req(b, 'POST', '/refresh', { from, token: user.refresh_token })).status).toBe(401);

        // rotate on A, adopting each new token: the first refresh token is spent, and B refuses it
        const login = await req(b, 'POST', '/login', {
          from,
          body: { user_name: user.userName, password: PASSWORD },
        });
        expectStatus(login, 200, 'second login');
        const first = login.json<Tokens>();
        const r1 = await req(a, 'POST', '/refresh', { from, token: first.refresh_token });
        expectStatus(r1, 200, 'refresh 1');
        const r2 = await req(a, 'POST', '/refresh', { from, token: r1.json<Tokens>().refresh_token });
        expectStatus(r2, 200, 'refresh 2');
        const latest = r2.json<Tokens>();
        expect((await req(b, 'GET', '/whoami', { token: latest.access_token })).status).toBe(200);

        const reuse = await req(b, 'POST', '/refresh', { from, token: first.refresh_token });
        expect(reuse.status).toBe(401);
        expect(reuse.json<ApiError>().code).toBe('TOKEN_REUSED');
        // which ended the whole session, as both processes see
        expect((await req(a, 'POST', '/refresh', { from, token: latest.refresh_token })).status).toBe(401);
        expect((await req(a, 'GET', '/whoami', { token: latest.access_token })).status).toBe(401);
        expect((await req(b, 'GET', '/whoami', { token: latest.access_token })).status).toBe(401);
      }),
    );
  },
);
