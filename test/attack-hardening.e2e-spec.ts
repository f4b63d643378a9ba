import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { ACCOUNT_REFUSAL_ROWS_PER_MINUTE, MAX_ATTEMPT_BYTES } from '../src/audit/refusal-auditor';
import { MAX_CONCURRENT_PASSWORD_CHECKS } from '../src/auth/password-check.service';
import { PasswordHasher } from '../src/auth/password-hasher';
import { Clock } from '../src/common/clock';
import { NO_REQUEST } from '../src/common/http/request-meta';
import { UsersService } from '../src/users/users.service';
import { MAX_VALIDATION_DETAILS } from '../src/common/errors/app-error';
import { sleep } from '../src/scripts/server-process';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

/**
 * Regressions for what an attack test found (issue 15): password guessing through the step-up
 * checks, audit flooding by one account, admins banning each other, admins crediting themselves,
 * and validation answers as large as the request. (Chunked bodies: body-limit-memory.e2e-spec.ts;
 * the audit log indexes: audit-indexes.e2e-spec.ts.)
 */

jest.setTimeout(180_000);

const PASSWORD = 'correct-horse-1';

async function auditRows(t: TestApp, where: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  return t.app.get(DataSource).query(`SELECT * FROM audit_logs WHERE ${where} ORDER BY id`, params);
}

const changePassword = (t: TestApp, u: TestUser, current: string, next = 'a-new-password-9') =>
  t.request('PUT', '/user/password', {
    token: u.access,
    body: { current_password: current, new_password: next },
  });

describe('password guessing through the step-up checks', () => {
  describe('they share the login limit (per account and per IP)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({
        LOGIN_RATE_LIMIT: '5',
        AUTH_RATE_LIMIT_TTL_SECONDS: '3',
        PASSWORD_CHECK_MAX_FAILURES: '1000',
      });
    });
    afterAll(() => t.close());

    it('the 6th wrong current password in a window is 429, and /login for that account is limited too', async () => {
      const u = await createUser(t, 'guess');
      await sleep(3_100); // the login above was one request of the window
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await changePassword(t, u, `wrong-guess-${i}`)).statusCode);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const res = await changePassword(t, u, PASSWORD);
      expect(res.statusCode).toBe(429);
      expect(res.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      // one budget for the account: a login with its name from another IP is refused as well
      const other = await t.request('POST', '/login', {
        body: { user_name: u.userName, password: PASSWORD },
        ip: '10.20.30.40',
      });
      expect(other.statusCode).toBe(429);
      // and POST /auth/fresh
      expect(
        (await t.request('POST', '/auth/fresh', { token: u.access, body: { password: PASSWORD } }))
          .statusCode,
      ).toBe(429);
    });
  });

  describe('repeated wrong passwords lock the step', () => {
    let t: TestApp;
    let clock: Clock;
    beforeAll(async () => {
      t = await startTestApp({
        PASSWORD_CHECK_MAX_FAILURES: '5',
        PASSWORD_CHECK_LOCK_SECONDS: '900',
        // these tests move the clock by hours: the tokens from /login must stay fresh meanwhile
        FRESH_TOKEN_TTL_SECONDS: '86400',
      });
      clock = t.app.get(Clock);
    });
    afterAll(() => t.close());
    afterEach(() => jest.restoreAllMocks());

    it('the 5th wrong password locks PUT /user/password and POST /auth/fresh, audited with the lock', async () => {
      const u = await createUser(t, 'lock');
      const start = new Date();
      jest.spyOn(clock, 'now').mockImplementation(() => new Date(start));
      for (let i = 0; i < 4; i++) {
        const res = await changePassword(t, u, `wrong-${i}`);
        expect(res.statusCode).toBe(401);
      }
      const fifth = await t.request('POST', '/auth/fresh', {
        token: u.access,
        body: { password: 'wrong-4' },
      });
      expect(fifth.statusCode).toBe(429);
      const lockedUntil = new Date(start.getTime() + 900_000).toISOString();
      expect(fifth.json()).toMatchObject({
        code: 'PASSWORD_CHECK_LOCKED',
        details: [{ field: 'locked_until', message: lockedUntil, value: 900 }],
      });
      expect(fifth.json().error).toContain(lockedUntil);
      expect(fifth.headers['retry-after']).toBe('900');

      // while locked, even the right password is refused (and costs no bcrypt)
      const hasher = t.app.get(PasswordHasher);
      const verify = jest.spyOn(hasher, 'verify');
      const right = await changePassword(t, u, PASSWORD);
      expect(right.statusCode).toBe(429);
      expect(right.json().code).toBe('PASSWORD_CHECK_LOCKED');
      expect(verify).not.toHaveBeenCalled();

      const rows = await auditRows(t, 'actor_user_id = ? AND success = ?', [u.id, false]);
      const reasons = rows.map((r) => JSON.parse(String(r.metadata_json)) as Record<string, unknown>);
      expect(reasons.map((m) => m.reason)).toEqual([
        'WRONG_CURRENT_PASSWORD',
        'WRONG_CURRENT_PASSWORD',
        'WRONG_CURRENT_PASSWORD',
        'WRONG_CURRENT_PASSWORD',
        'WRONG_PASSWORD_LOCKED',
        'PASSWORD_CHECK_LOCKED',
      ]);
      expect(reasons[3]).toMatchObject({ attempts_left: 1 });
      expect(reasons[4]).toMatchObject({ locked_until: lockedUntil });

      // the lock ends: the right password works again, and the count starts over
      jest.spyOn(clock, 'now').mockImplementation(() => new Date(start.getTime() + 900_001));
      const fresh = await t.request('POST', '/auth/fresh', { token: u.access, body: { password: PASSWORD } });
      expect(fresh.statusCode).toBe(200);
      const again = await changePassword(t, u, 'wrong-again');
      expect(again.statusCode).toBe(401);
      const failed = await auditRows(t, 'actor_user_id = ? AND success = ?', [u.id, false]);
      const last = failed.slice(-1);
      expect(JSON.parse(String(last[0].metadata_json))).toMatchObject({ attempts_left: 4 });
    });

    it('wrong passwords spread over more than the lock window do not add up', async () => {
      const u = await createUser(t, 'slow');
      const start = Date.now();
      for (let i = 0; i < 8; i++) {
        jest.spyOn(clock, 'now').mockImplementation(() => new Date(start + i * 901_000));
        expect((await changePassword(t, u, `wrong-${i}`)).statusCode).toBe(401);
      }
    });

    it('password checks of one account never run more than MAX_CONCURRENT_PASSWORD_CHECKS at once', async () => {
      const u = await createUser(t, 'para');
      const hasher = t.app.get(PasswordHasher);
      const original = hasher.verify.bind(hasher);
      let running = 0;
      let most = 0;
      jest.spyOn(hasher, 'verify').mockImplementation(async (password, hash) => {
        running += 1;
        most = Math.max(most, running);
        try {
          await sleep(50);
          return await original(password, hash);
        } finally {
          running -= 1;
        }
      });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? t.request('POST', '/auth/fresh', { token: u.access, body: { password: `wrong-${i}` } })
            : t.request('POST', '/login', { body: { user_name: u.userName, password: `wrong-${i}` } }),
        ),
      );
      expect(most).toBeLessThanOrEqual(MAX_CONCURRENT_PASSWORD_CHECKS);
      const codes = answers.map((r) => r.json<{ code: string }>().code);
      expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(['RATE_LIMITED', 'INVALID_CREDENTIALS']));
    });
  });
});

describe('one account cannot flood the audit trail', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('refusals of one account write at most the budget a minute; the next row says how many were left out', async () => {
    const u = await createUser(t, 'flood');
    const clock = t.app.get(Clock);
    const start = new Date();
    jest.spyOn(clock, 'now').mockImplementation(() => new Date(start));
    const sent = ACCOUNT_REFUSAL_ROWS_PER_MINUTE + 40;
    for (let i = 0; i < sent; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.request('POST', '/alerts', { token: u.access, body: { direction: 'sideways', threshold: -1 } }),
        ),
      );
      for (const r of batch) expect(r.statusCode).toBe(400);
    }
    const written = await auditRows(t, 'actor_user_id = ? AND success = ?', [u.id, false]);
    expect(written).toHaveLength(ACCOUNT_REFUSAL_ROWS_PER_MINUTE);
    // another account is not affected
    const v = await createUser(t, 'calm');
    expect((await t.request('POST', '/alerts', { token: v.access, body: {} })).statusCode).toBe(400);
    expect(await auditRows(t, 'actor_user_id = ? AND success = ?', [v.id, false])).toHaveLength(1);

    jest.spyOn(clock, 'now').mockImplementation(() => new Date(start.getTime() + 60_000));
    expect((await t.request('POST', '/alerts', { token: u.access, body: {} })).statusCode).toBe(400);
    const after = await auditRows(t, 'actor_user_id = ? AND success = ?', [u.id, false]);
    expect(after).toHaveLength(ACCOUNT_REFUSAL_ROWS_PER_MINUTE + 1);
    expect(JSON.parse(String(after[after.length - 1].metadata_json))).toMatchObject({
      skipped_rows_from_this_account: sent - ACCOUNT_REFUSAL_ROWS_PER_MINUTE,
    });
  });

  it('a refused body is kept only up to a small size', async () => {
    const u = await createUser(t, 'big');
    const small = { direction: 'sideways', condition: 'above', threshold: 1 };
    const large = { ...small, condition: 'x'.repeat(MAX_ATTEMPT_BYTES) };
    for (const body of [small, large]) {
      expect((await t.request('POST', '/alerts', { token: u.access, body })).statusCode).toBe(400);
    }
    const rows = await auditRows(t, 'actor_user_id = ? AND success = ?', [u.id, false]);
    const meta = rows.map((r) => JSON.parse(String(r.metadata_json)) as Record<string, unknown>);
    expect(meta[0].body).toEqual(small);
    expect(meta[1].body).toBeUndefined();
    expect(meta[1].body_bytes).toBe(Buffer.byteLength(JSON.stringify(large)));
  });
});

describe('admins acting on admins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('two admins banning each other at the same moment: exactly one is banned, 20 rounds', async () => {
    let a = await createAdmin(t);
    let b = await createAdmin(t);
    const status = (token: string, id: number, s: string): Promise<Res> =>
      t.request('PUT', `/admin/users/${id}/status`, { token, body: { status: s } });
    for (let round = 0; round < 20; round++) {
      const [ra, rb] = await Promise.all([
        status(a.access, b.id, 'BANNED'),
        status(b.access, a.id, 'BANNED'),
      ]);
      const codes = [ra.statusCode, rb.statusCode].sort();
      expect({ round, codes }).toEqual({ round, codes: [200, 403] });
      const winner = ra.statusCode === 200 ? a : b;
      const loser = winner === a ? b : a;
      const refused = winner === a ? rb : ra;
      expect(['FORBIDDEN_ROLE', 'ACCOUNT_INACTIVE']).toContain(refused.json().code);
      const rows: { id: number; status: string }[] = await t.app
        .get(DataSource)
        .query('SELECT id, status FROM users WHERE id IN (?, ?) ORDER BY id', [a.id, b.id]);
      expect(rows.filter((r) => r.status === 'BANNED').map((r) => Number(r.id))).toEqual([loser.id]);
      // the winner lets the loser back in for the next round
      expect((await status(winner.access, loser.id, 'ACTIVE')).statusCode).toBe(200);
      const tokens = await login(t, loser.userName, loser.password);
      if (loser === a) a = { ...a, ...tokens };
      else b = { ...b, ...tokens };
    }
  });

  it('an admin changed while the request ran cannot act: the check is made on the locked rows', async () => {
    const a = await createAdmin(t);
    const target = await createUser(t, 'target');
    // a passed the guards, then another admin banned a before a's transaction began
    await t.app.get(DataSource).query("UPDATE users SET status = 'BANNED' WHERE id = ?", [a.id]);
    const users = t.app.get(UsersService);
    const actor = { id: a.id, userName: a.userName };
    await expect(users.setStatus(actor, target.id, 'SUSPENDED', NO_REQUEST)).rejects.toMatchObject({
      statusCode: 403,
      code: 'FORBIDDEN_ROLE',
    });
    await expect(users.setRole(actor, target.id, 'ADMIN', NO_REQUEST)).rejects.toMatchObject({
      statusCode: 403,
    });
    expect((await users.getById(target.id)).status).toBe('ACTIVE');
  });

  it('an admin cannot adjust their own wallet (403), another admin can', async () => {
    const a = await createAdmin(t);
    const b = await createAdmin(t);
    const body = { currency: 'USD', amount: 1e12, reason: 'pay myself' };
    const own = await t.request('POST', `/admin/users/${a.id}/wallet/adjust`, { token: a.access, body });
    expect(own.statusCode).toBe(403);
    expect(own.json()).toMatchObject({ code: 'SELF_MODIFICATION_FORBIDDEN', statusCode: 403 });
    const wallet = await t.request('GET', '/wallet', { token: a.access });
    expect(wallet.json()).toMatchObject({ usd_balance: 0 });
    const rows = await auditRows(t, 'actor_user_id = ? AND event_type = ?', [a.id, 'ADMIN_WALLET_ADJUST']);
    expect(rows.map((r) => [Number(r.success), r.status_code])).toEqual([[0, 403]]);
    const byOther = await t.request('POST', `/admin/users/${a.id}/wallet/adjust`, {
      token: b.access,
      body: { currency: 'USD', amount: 10, reason: 'correction' },
    });
    expect(byOther.statusCode).toBe(200);
  });
});

describe('validation answers stay small', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it(`8,000 unknown keys: 400 with at most ${MAX_VALIDATION_DETAILS} details, every one counted in the message`, async () => {
    const body = Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`k${i}`, 1]));
    const res = await t.request('POST', '/login', {
      body: { user_name: 'someone', password: 'x'.repeat(8), ...body },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toHaveLength(MAX_VALIDATION_DETAILS);
    expect(res.json().error).toContain('(and 7999 more)');
    expect(res.body.length).toBeLessThan(4_000);
  });
});

describe('body limits by route and caller', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT_BYTES: '2048', IMPORT_BODY_LIMIT_BYTES: '65536' });
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  const csv = (rows: number): string => {
    const lines = ['direction,rate,usd_volume,created_at'];
    for (let i = 0; i < rows; i++)
      lines.push(`usd_to_lbp,${89_000 + (i % 50)},10,2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`);
    return `${lines.join('\n')}\n`;
  };
  const importAs = (token: string, body: string, chunked = false) =>
    t.app.inject({
      method: 'POST',
      url: '/admin/rates/import',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      // a stream has no Content-Length: the limit can only be kept while reading
      payload: chunked ? Readable.from([body.slice(0, 1000), body.slice(1000)]) : body,
    });

  it('the import route takes IMPORT_BODY_LIMIT_BYTES only from a fresh admin', async () => {
    const body = csv(200); // about 9 KB: over BODY_LIMIT_BYTES, under IMPORT_BODY_LIMIT_BYTES
    expect(Buffer.byteLength(body)).toBeGreaterThan(2048);
    for (const chunked of [false, true]) {
      const res = await importAs(admin.access, body, chunked);
      expect({ chunked, status: res.statusCode }).toEqual({ chunked, status: 201 });
    }
    // a stale admin token, a user's token, no token: cut at BODY_LIMIT_BYTES
    const stale = await t.request('POST', '/refresh', { token: admin.refresh });
    const notFresh = stale.json<{ access_token: string }>().access_token;
    const user = await createUser(t, 'imp');
    for (const [who, token] of [
      ['admin, not fresh', notFresh],
      ['user', user.access],
      ['nobody', 'not-a-token'],
    ]) {
      for (const chunked of [false, true]) {
        const res = await importAs(token, body, chunked);
        expect({ who, chunked, status: res.statusCode, code: res.json().code }).toEqual({
          who,
          chunked,
          status: 413,
          code: 'PAYLOAD_TOO_LARGE',
        });
      }
      // a small body still reaches the guards, which refuse it as before
      const small = await importAs(token, csv(2));
      expect({ who, status: small.statusCode }).toEqual({
        who,
        status: who.startsWith('admin') ? 201 : who === 'user' ? 403 : 401,
      });
    }
    // past the import limit, even a fresh admin is cut
    const huge = await importAs(admin.access, csv(2000), true);
    expect(huge.statusCode).toBe(413);
  });

  it('every other route is cut at BODY_LIMIT_BYTES while the body streams', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/json' },
      payload: Readable.from([`{"user_name":"x","password":"`, 'y'.repeat(5000), '"}']),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
  });
});
