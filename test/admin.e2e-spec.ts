import { Clock } from '../src/common/clock';
import { toErrorBody } from '../src/common/filters/all-exceptions.filter';
import { NO_REQUEST } from '../src/common/http/request-meta';
import { UsersService } from '../src/users/users.service';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';
import type { AuditLogPageDto } from '../src/audit/dto/log-query.dto';
import { AUDIT_LOG_KEYS } from './support/audit-log';

jest.setTimeout(60_000);

interface UserRow {
  id: number;
  user_name: string;
  role: string;
  status: string;
  created_at: string;
}

type LogPage = AuditLogPageDto;

const LOG_KEYS = [...AUDIT_LOG_KEYS].sort();

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const NO_SUCH_ID = 987_654;

/** A lower-case tag that makes names of one test unique within the shared database. */
const tag = (): string => Math.random().toString(36).slice(2, 8).padEnd(6, '0');

function expectError(res: Res, status: number, code?: string): void {
  expect({ status: res.statusCode, body: res.json() }).toMatchObject({
    status,
    body: { statusCode: status, error: expect.any(String), ...(code ? { code } : {}) },
  });
}

/** 400 VALIDATION_FAILED with a `details` entry naming `field`. */
function expectValidation(res: Res, field?: string): void {
  expectError(res, 400, 'VALIDATION_FAILED');
  const details = res.json<{ details?: { field: string; message: string }[] }>().details;
  expect(details).toEqual(
    expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]),
  );
  if (field) expect(details?.map((d) => d.field)).toContain(field);
}

/** Newest first: created_at never increases, ties broken by the higher id first. */
function expectNewestFirst(rows: { id: number; created_at: string }[]): void {
  for (let i = 1; i < rows.length; i++) {
    const prev = Date.parse(rows[i - 1].created_at);
    const cur = Date.parse(rows[i].created_at);
    expect(prev).toBeGreaterThanOrEqual(cur);
    if (prev === cur) expect(rows[i - 1].id).toBeGreaterThan(rows[i].id);
  }
}

describe('admin, preferences and audit logs', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Registers with an explicit name (and e-mail) and logs in. */
  async function register(userName: string, email?: string, password = 'correct-horse-1'): Promise<TestUser> {
    const res = await t.request('POST', '/user', {
      body: { user_name: userName, password, ...(email ? { email } : {}) },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json<{ id: number }>().id;
    return { id, userName, password, ...(await login(t, userName, password)) };
  }

  /** An access token of `u` that is not fresh: access tokens from POST /refresh never are. */
  async function nonFresh(u: TestUser): Promise<string> {
    const s = await login(t, u.userName, u.password);
    const res = await t.request('POST', '/refresh', { token: s.refresh });
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  }

  const adminLogs = async (query: string, token = admin.access): Promise<LogPage> => {
    const res = await t.request('GET', `/admin/logs?${query}`, { token });
    expect({ status: res.statusCode, query }).toEqual({ status: 200, query });
    return res.json<LogPage>();
  };

  const myLogs = async (u: TestUser, query = ''): Promise<LogPage> => {
    const res = await t.request('GET', `/logs?${query}`, { token: u.access });
    expect({ status: res.statusCode, query }).toEqual({ status: 200, query });
    return res.json<LogPage>();
  };

  const listUsers = async (query: string): Promise<{ rows: UserRow[]; total: number; res: Res }> => {
    const res = await t.request('GET', `/admin/users?${query}`, { token: admin.access });
    expect({ status: res.statusCode, query }).toEqual({ status: 200, query });
    return { rows: res.json<UserRow[]>(), total: Number(res.headers['x-total-count']), res };
  };

  const setStatus = (id: number | string, status: unknown, token = admin.access) =>
    t.request('PUT', `/admin/users/${id}/status`, { token, body: { status } });
  const setRole = (id: number | string, role: unknown, token = admin.access) =>
    t.request('PUT', `/admin/users/${id}/role`, { token, body: { role } });

  // ---------------------------------------------------------------------------------------------
  describe('GET/PUT /preferences', () => {
    it('the first read creates the defaults, and they persist', async () => {
      const u = await createUser(t, 'pref');
      const first = await t.request('GET', '/preferences', { token: u.access });
      expect(first.statusCode).toBe(200);
      expect(first.json()).toEqual({ default_range_hours: 72, default_bucket: 'hour' });
      const again = await t.request('GET', '/preferences', { token: u.access });
      expect(again.json()).toEqual({ default_range_hours: 72, default_bucket: 'hour' });
    });

    it('PUT with one field keeps the other and answers {message, default_range_hours, default_bucket}', async () => {
      const u = await createUser(t, 'pref');
      // Before any read: the row is created from the defaults, then patched.
      const bucket = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_bucket: 'day' },
      });
      expect(bucket.statusCode).toBe(200);
      expect(bucket.json()).toEqual({
        message: expect.any(String),
        default_range_hours: 72,
        default_bucket: 'day',
      });

      const range = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_range_hours: 24 },
      });
      expect(range.statusCode).toBe(200);
      expect(range.json()).toEqual({
        message: expect.any(String),
        default_range_hours: 24,
        default_bucket: 'day',
      });

      const both = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_range_hours: 720, default_bucket: 'hour' },
      });
      expect(both.json()).toEqual({
        message: expect.any(String),
        default_range_hours: 720,
        default_bucket: 'hour',
      });

      const edge = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_range_hours: 1 },
      });
      expect(edge.json()).toMatchObject({ default_range_hours: 1, default_bucket: 'hour' });

      const read = await t.request('GET', '/preferences', { token: u.access });
      expect(read.json()).toEqual({ default_range_hours: 1, default_bucket: 'hour' });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['range 0', { default_range_hours: 0 }, 'default_range_hours'],
      ['range 721', { default_range_hours: 721 }, 'default_range_hours'],
      ['range -5', { default_range_hours: -5 }, 'default_range_hours'],
      ['non-integer range', { default_range_hours: 1.5 }, 'default_range_hours'],
      ['range as a string', { default_range_hours: '24' }, 'default_range_hours'],
      ['bucket "week"', { default_bucket: 'week' }, 'default_bucket'],
      ['bucket "HOUR"', { default_bucket: 'HOUR' }, 'default_bucket'],
    ])(
      'PUT refuses %s with 400 VALIDATION_FAILED and details, changing nothing',
      async (_name, body, field) => {
        const u = await createUser(t, 'pref');
        const res = await t.request('PUT', '/preferences', { token: u.access, body });
        expectValidation(res, field);
        const read = await t.request('GET', '/preferences', { token: u.access });
        expect(read.json()).toEqual({ default_range_hours: 72, default_bucket: 'hour' });
      },
    );

    it('PUT refuses unknown fields with 400 (nobody can slip in extra columns)', async () => {
      const u = await createUser(t, 'pref');
      for (const body of [{ timezone: 'UTC' }, { default_bucket: 'day', user_id: 1 }]) {
        const res = await t.request('PUT', '/preferences', { token: u.access, body });
        expectError(res, 400, 'VALIDATION_FAILED');
      }
      const read = await t.request('GET', '/preferences', { token: u.access });
      expect(read.json()).toEqual({ default_range_hours: 72, default_bucket: 'hour' });
    });

    it('a PREFERENCES_UPDATE audit row appears in GET /logs for that user', async () => {
      const u = await createUser(t, 'pref');
      const put = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_range_hours: 48 },
      });
      expect(put.statusCode).toBe(200);
      const page = await myLogs(u, 'event_type=PREFERENCES_UPDATE');
      expect(page.total).toBe(1);
      const [row] = page.logs;
      expect(row).toMatchObject({
        event_type: 'PREFERENCES_UPDATE',
        success: true,
        status_code: 200,
        http_method: 'PUT',
        path: '/preferences',
        actor_user_id: u.id,
        actor_username: u.userName,
        target_user_id: u.id,
      });
      expect(JSON.parse(row.metadata_json ?? '{}')).toMatchObject({
        before: { default_range_hours: 72, default_bucket: 'hour' },
        after: { default_range_hours: 48, default_bucket: 'hour' },
      });
    });

    it('needs a token (401)', async () => {
      expectError(await t.request('GET', '/preferences'), 401);
      expectError(await t.request('PUT', '/preferences', { body: { default_bucket: 'day' } }), 401);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('GET /admin/users', () => {
    it('is a plain array with X-Total-Count, the contract fields and never a password hash', async () => {
      const tg = tag();
      await register(`hx${tg}`, `hx${tg}@example.com`);
      const { rows, total, res } = await listUsers('limit=200');
      expect(Array.isArray(rows)).toBe(true);
      expect(res.headers['x-total-count']).toMatch(/^\d+$/);
      expect(total).toBeGreaterThanOrEqual(rows.length);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) {
        expect(r).toMatchObject({
          id: expect.any(Number),
          user_name: expect.any(String),
          role: expect.stringMatching(/^(USER|ADMIN)$/),
          status: expect.stringMatching(/^(ACTIVE|SUSPENDED|BANNED)$/),
          created_at: expect.stringMatching(ISO_UTC),
        });
        for (const key of Object.keys(r)) expect(key).not.toMatch(/pass|hash|secret|_key$/i);
      }
      expect(res.body).not.toMatch(/\$2[aby]\$/); // bcrypt
      expect(res.body).not.toMatch(/password/i);
    });

    it('rows carry usd_balance and lbp_balance', async () => {
      const u = await register(`bal${tag()}`);
      const adj = await t.request('POST', `/admin/users/${u.id}/wallet/adjust`, {
        token: admin.access,
        body: { currency: 'USD', amount: 12.34, reason: 'test credit' },
      });
      expect(adj.statusCode).toBe(200);
      const res = await t.request('GET', `/admin/users?q=${u.userName}`, { token: admin.access });
      expect(res.json()).toEqual([expect.objectContaining({ id: u.id, usd_balance: 12.34, lbp_balance: 0 })]);
    });

    it('lists newest first', async () => {
      const tg = tag();
      const a = await register(`nf${tg}a`);
      const b = await register(`nf${tg}b`);
      const c = await register(`nf${tg}c`);
      const { rows, total } = await listUsers(`q=nf${tg}`);
      expect(rows.map((r) => r.id)).toEqual([c.id, b.id, a.id]);
      expect(total).toBe(3);
      const all = await listUsers('limit=200');
      expectNewestFirst(all.rows);
      expect(all.rows[0].id).toBe(Math.max(...all.rows.map((r) => r.id)));
    });

    it('filters by status and role, alone and combined', async () => {
      const tg = tag();
      const s1 = await register(`sf${tg}1`);
      const s2 = await register(`sf${tg}2`);
      const s3 = await register(`sf${tg}3`);
      expect((await setStatus(s1.id, 'SUSPENDED')).statusCode).toBe(200);
      expect((await setRole(s2.id, 'ADMIN')).statusCode).toBe(200);
      expect((await setStatus(s3.id, 'BANNED')).statusCode).toBe(200);

      const ids = async (query: string) => (await listUsers(`q=sf${tg}&${query}`)).rows.map((r) => r.id);
      expect(await ids('status=SUSPENDED')).toEqual([s1.id]);
      expect(await ids('status=BANNED')).toEqual([s3.id]);
      expect(await ids('status=ACTIVE')).toEqual([s2.id]);
      expect(await ids('role=ADMIN')).toEqual([s2.id]);
      expect(await ids('role=USER')).toEqual([s3.id, s1.id]);
      expect(await ids('role=USER&status=BANNED')).toEqual([s3.id]);
      expect(await ids('role=ADMIN&status=SUSPENDED')).toEqual([]);

      const suspended = await listUsers('status=SUSPENDED&limit=200');
      expect(suspended.rows.length).toBeGreaterThan(0);
      expect(suspended.rows.every((r) => r.status === 'SUSPENDED')).toBe(true);
      const admins = await listUsers('role=ADMIN&limit=200');
      expect(admins.rows.every((r) => r.role === 'ADMIN')).toBe(true);
      expect(admins.rows.map((r) => r.id)).toEqual(expect.arrayContaining([admin.id, s2.id]));
      expect(admins.total).toBe(admins.rows.length);

      for (const bad of ['status=GONE', 'status=active', 'role=ROOT', 'role=admin']) {
        expectValidation(await t.request('GET', `/admin/users?${bad}`, { token: admin.access }));
      }
    });

    it('q matches a case-insensitive substring of the user name or e-mail', async () => {
      const tg = tag();
      const u = await register(`CaSe${tg}Name`, `Mixed.${tg}@Example.COM`);
      const other = await register(`zz${tg}other`);
      for (const q of [
        `case${tg}name`,
        `CASE${tg.toUpperCase()}NAME`,
        `e${tg}N`,
        `mixed.${tg}@example.com`,
        `MIXED.${tg}`,
      ]) {
        const { rows, total } = await listUsers(`q=${encodeURIComponent(q)}`);
        expect({ q, ids: rows.map((r) => r.id), total }).toEqual({ q, ids: [u.id], total: 1 });
      }
      const both = await listUsers(`q=${tg}`);
      expect(both.rows.map((r) => r.id)).toEqual([other.id, u.id]);
      const none = await listUsers(`q=${tg}nomatch`);
      expect(none).toMatchObject({ rows: [], total: 0 });
      expectValidation(
        await t.request('GET', `/admin/users?q=${'x'.repeat(101)}`, { token: admin.access }),
        'q',
      );
    });

    it('q containing %, _ or the escape character is matched literally', async () => {
      const tg = tag();
      const under = await register(`lk${tg}a_b`);
      await register(`lk${tg}axb`);
      const pct = await register(`pc${tg}1`, `pc${tg}50%off@example.com`);
      await register(`pc${tg}2`, `pc${tg}50xxoff@example.com`);
      const bang = await register(`bg${tg}1`, `bg${tg}!x@example.com`);
      await register(`bg${tg}2`, `bg${tg}yx@example.com`);

      const ids = async (q: string) => (await listUsers(`q=${encodeURIComponent(q)}`)).rows.map((r) => r.id);
      expect(await ids(`${tg}a_b`)).toEqual([under.id]);
      expect(await ids(`${tg}50%off`)).toEqual([pct.id]);
      expect(await ids(`${tg}!x`)).toEqual([bang.id]);
      expect(await ids(`${tg}%`)).toEqual([]);
      expect(await ids(`lk${tg}_`)).toEqual([]);
      expect(await ids('%')).toEqual([pct.id]);
    });

    it('pages with limit/offset (X-Total-Count is the filtered total) and refuses out-of-range paging', async () => {
      const tg = tag();
      const made: TestUser[] = [];
      for (let i = 0; i < 5; i++) made.push(await register(`pg${tg}${i}`));
      const newest = made.map((u) => u.id).reverse();

      const p1 = await listUsers(`q=pg${tg}&limit=2`);
      expect(p1.rows.map((r) => r.id)).toEqual(newest.slice(0, 2));
      expect(p1.total).toBe(5);
      const p2 = await listUsers(`q=pg${tg}&limit=2&offset=2`);
      expect(p2.rows.map((r) => r.id)).toEqual(newest.slice(2, 4));
      const p3 = await listUsers(`q=pg${tg}&limit=2&offset=4`);
      expect(p3.rows.map((r) => r.id)).toEqual(newest.slice(4));
      const past = await listUsers(`q=pg${tg}&offset=10`);
      expect(past).toMatchObject({ rows: [], total: 5 });
      const max = await listUsers(`q=pg${tg}&limit=200`);
      expect(max.rows).toHaveLength(5);

      for (const bad of [
        'limit=0',
        'limit=201',
        'limit=-1',
        'limit=abc',
        'limit=1.5',
        'offset=-1',
        'offset=x',
      ]) {
        expectValidation(
          await t.request('GET', `/admin/users?${bad}`, { token: admin.access }),
          bad.split('=')[0],
        );
      }
    });

    it('the default page is 50 rows', async () => {
      for (let i = 0; i < 52; i++) {
        const res = await t.request('POST', '/user', {
          body: { user_name: `dp${tag()}${i}`, password: 'correct-horse-1' },
        });
        expect(res.statusCode).toBe(201);
      }
      const { rows, total } = await listUsers('');
      expect(rows).toHaveLength(50);
      expect(total).toBeGreaterThanOrEqual(52);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('PUT /admin/users/:id/status (fresh)', () => {
    it('suspending answers {message, id, status}; the suspended token is refused (403) on its next request', async () => {
      const u = await createUser(t, 'st');
      expect((await t.request('GET', '/whoami', { token: u.access })).statusCode).toBe(200);
      const res = await setStatus(u.id, 'SUSPENDED');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ message: expect.any(String), id: u.id, status: 'SUSPENDED' });
      // "Loses access on the next request, whatever tokens they hold": 403 (inactive account), not 401.
      expectError(await t.request('GET', '/whoami', { token: u.access }), 403, 'ACCOUNT_INACTIVE');
      expectError(await t.request('GET', '/preferences', { token: u.access }), 403, 'ACCOUNT_INACTIVE');
      expectError(await t.request('POST', '/refresh', { token: u.refresh }), 403, 'ACCOUNT_INACTIVE');
      // Logging in is refused too while suspended.
      expectError(
        await t.request('POST', '/login', { body: { user_name: u.userName, password: u.password } }),
        403,
      );
      const listed = await listUsers(`q=${u.userName}`);
      expect(listed.rows).toEqual([expect.objectContaining({ id: u.id, status: 'SUSPENDED' })]);
    });

    it("revokes the user's sessions: after reactivation the old tokens are 401, a new login works", async () => {
      const u = await createUser(t, 'st');
      const second = await login(t, u.userName, u.password);
      expect((await setStatus(u.id, 'SUSPENDED')).statusCode).toBe(200);
      const back = await setStatus(u.id, 'ACTIVE');
      expect(back.statusCode).toBe(200);
      expect(back.json()).toEqual({ message: expect.any(String), id: u.id, status: 'ACTIVE' });

      for (const token of [u.access, second.access])
        expectError(await t.request('GET', '/whoami', { token }), 401);
      for (const token of [u.refresh, second.refresh])
        expectError(await t.request('POST', '/refresh', { token }), 401);
      const fresh = await login(t, u.userName, u.password);
      expect((await t.request('GET', '/whoami', { token: fresh.access })).statusCode).toBe(200);

      const audit = await adminLogs(`event_type=ADMIN_USER_STATUS_CHANGE&target_user_id=${u.id}`);
      expect(audit.total).toBe(2);
      expect(audit.logs.map((r) => JSON.parse(r.metadata_json ?? '{}') as Record<string, unknown>)).toEqual([
        expect.objectContaining({ previous_status: 'SUSPENDED', status: 'ACTIVE' }),
        expect.objectContaining({ previous_status: 'ACTIVE', status: 'SUSPENDED', sessions_revoked: 2 }),
      ]);
      expect(audit.logs.every((r) => r.actor_user_id === admin.id && r.success)).toBe(true);
    });

    it('banning also ends the sessions and blocks login (403)', async () => {
      const u = await createUser(t, 'st');
      const res = await setStatus(u.id, 'BANNED');
      expect(res.json()).toEqual({ message: expect.any(String), id: u.id, status: 'BANNED' });
      expectError(await t.request('GET', '/whoami', { token: u.access }), 403, 'ACCOUNT_INACTIVE');
      expectError(
        await t.request('POST', '/login', { body: { user_name: u.userName, password: u.password } }),
        403,
      );
    });

    it('refuses changing your own status: 403 SELF_MODIFICATION_FORBIDDEN', async () => {
      for (const status of ['SUSPENDED', 'ACTIVE']) {
        expectError(await setStatus(admin.id, status), 403, 'SELF_MODIFICATION_FORBIDDEN');
      }
      expect((await t.request('GET', '/whoami', { token: admin.access })).json()).toMatchObject({
        status: 'ACTIVE',
      });
      // Every refused admin attempt is audited.
      const audit = await adminLogs(
        `event_type=ADMIN_USER_STATUS_CHANGE&actor_user_id=${admin.id}&target_user_id=${admin.id}&success=false`,
      );
      expect(audit.total).toBe(2);
      for (const r of audit.logs) {
        expect(r).toMatchObject({
          status_code: 403,
          path: `/admin/users/${admin.id}/status`,
          http_method: 'PUT',
        });
        expect(JSON.parse(r.metadata_json ?? '{}')).toMatchObject({ code: 'SELF_MODIFICATION_FORBIDDEN' });
      }
    });

    it('unknown id → 404, id "abc" → 400, invalid or missing status → 400', async () => {
      const u = await createUser(t, 'st');
      expectError(await setStatus(NO_SUCH_ID, 'SUSPENDED'), 404);
      for (const id of ['abc', '0', '-1', '1.5']) expectValidation(await setStatus(id, 'SUSPENDED'));
      for (const status of ['DELETED', 'suspended', '', 1, null]) {
        expectValidation(await setStatus(u.id, status), 'status');
      }
      expectValidation(
        await t.request('PUT', `/admin/users/${u.id}/status`, { token: admin.access, body: {} }),
        'status',
      );
      expectValidation(
        await t.request('PUT', `/admin/users/${u.id}/status`, {
          token: admin.access,
          body: { status: 'SUSPENDED', role: 'ADMIN' },
        }),
      );
      expect((await t.request('GET', '/whoami', { token: u.access })).json()).toMatchObject({
        status: 'ACTIVE',
        role: 'USER',
      });
    });

    it('needs a fresh token: a refreshed admin token → 403 FRESH_TOKEN_REQUIRED; POST /auth/fresh fixes it', async () => {
      const u = await createUser(t, 'st');
      const stale = await nonFresh(admin);
      expectError(await setStatus(u.id, 'SUSPENDED', stale), 403, 'FRESH_TOKEN_REQUIRED');
      expect((await t.request('GET', '/whoami', { token: u.access })).statusCode).toBe(200);
      const denied = await adminLogs(`event_type=ADMIN_ACCESS_DENIED&actor_user_id=${admin.id}&limit=200`);
      const row = denied.logs.find((r) => r.path === `/admin/users/${u.id}/status`);
      expect(row).toMatchObject({
        success: false,
        status_code: 403,
        http_method: 'PUT',
        actor_username: admin.userName,
      });
      expect(JSON.parse(row?.metadata_json ?? '{}')).toMatchObject({ code: 'FRESH_TOKEN_REQUIRED' });

      expectError(
        await t.request('POST', '/auth/fresh', { token: stale, body: { password: 'wrong-password' } }),
        401,
      );
      const fresh = await t.request('POST', '/auth/fresh', {
        token: stale,
        body: { password: admin.password },
      });
      expect(fresh.statusCode).toBe(200);
      const freshToken = fresh.json<{ access_token: string }>().access_token;
      const res = await setStatus(u.id, 'SUSPENDED', freshToken);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: u.id, status: 'SUSPENDED' });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('PUT /admin/users/:id/role (fresh)', () => {
    it('promoting lets the user into admin routes at once; demoting shuts them out on their next request', async () => {
      const u = await createUser(t, 'rl');
      expectError(await t.request('GET', '/admin/users', { token: u.access }), 403);
      const up = await setRole(u.id, 'ADMIN');
      expect(up.statusCode).toBe(200);
      expect(up.json()).toEqual({ message: expect.any(String), id: u.id, role: 'ADMIN' });
      expect((await t.request('GET', '/admin/users', { token: u.access })).statusCode).toBe(200);
      expect((await t.request('GET', '/admin/logs', { token: u.access })).statusCode).toBe(200);

      const down = await setRole(u.id, 'USER');
      expect(down.statusCode).toBe(200);
      expect(down.json()).toEqual({ message: expect.any(String), id: u.id, role: 'USER' });
      expectError(await t.request('GET', '/admin/users', { token: u.access }), 403);
      expectError(await t.request('GET', '/admin/logs', { token: u.access }), 403);
      expect((await t.request('GET', '/whoami', { token: u.access })).json()).toMatchObject({ role: 'USER' });

      const audit = await adminLogs(`event_type=ADMIN_USER_ROLE_CHANGE&target_user_id=${u.id}&success=true`);
      expect(audit.logs.map((r) => JSON.parse(r.metadata_json ?? '{}') as Record<string, unknown>)).toEqual([
        expect.objectContaining({ previous_role: 'ADMIN', role: 'USER' }),
        expect.objectContaining({ previous_role: 'USER', role: 'ADMIN' }),
      ]);
    });

    it('an admin can demote another admin', async () => {
      const other = await createAdmin(t);
      const res = await setRole(other.id, 'USER');
      expect(res.statusCode).toBe(200);
      expectError(await t.request('GET', '/admin/users', { token: other.access }), 403);
    });

    it('refuses yourself (403), unknown id (404), bad id or role (400) and a non-fresh token (403)', async () => {
      const u = await createUser(t, 'rl');
      expectError(await setRole(admin.id, 'USER'), 403, 'SELF_MODIFICATION_FORBIDDEN');
      expectError(await setRole(NO_SUCH_ID, 'ADMIN'), 404);
      expectValidation(await setRole('abc', 'ADMIN'));
      for (const role of ['ROOT', 'admin', '', null]) expectValidation(await setRole(u.id, role), 'role');
      expectValidation(
        await t.request('PUT', `/admin/users/${u.id}/role`, {
          token: admin.access,
          body: { role: 'ADMIN', status: 'ACTIVE' },
        }),
      );
      expectError(await setRole(u.id, 'ADMIN', await nonFresh(admin)), 403, 'FRESH_TOKEN_REQUIRED');
      expect((await t.request('GET', '/whoami', { token: u.access })).json()).toMatchObject({ role: 'USER' });
      expect((await t.request('GET', '/whoami', { token: admin.access })).json()).toMatchObject({
        role: 'ADMIN',
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('GET/PUT /admin/users/:id/preferences', () => {
    it('GET creates and returns the defaults; PUT (fresh) patches like /preferences', async () => {
      const u = await createUser(t, 'ap');
      const first = await t.request('GET', `/admin/users/${u.id}/preferences`, { token: admin.access });
      expect(first.statusCode).toBe(200);
      expect(first.json()).toEqual({ default_range_hours: 72, default_bucket: 'hour' });

      const put = await t.request('PUT', `/admin/users/${u.id}/preferences`, {
        token: admin.access,
        body: { default_range_hours: 168 },
      });
      expect(put.statusCode).toBe(200);
      expect(put.json()).toEqual({
        message: expect.any(String),
        default_range_hours: 168,
        default_bucket: 'hour',
      });
      const put2 = await t.request('PUT', `/admin/users/${u.id}/preferences`, {
        token: admin.access,
        body: { default_bucket: 'day' },
      });
      expect(put2.json()).toEqual({
        message: expect.any(String),
        default_range_hours: 168,
        default_bucket: 'day',
      });

      // The user sees it, and the admin's own preferences are untouched.
      expect((await t.request('GET', '/preferences', { token: u.access })).json()).toEqual({
        default_range_hours: 168,
        default_bucket: 'day',
      });
      expect(
        (await t.request('GET', `/admin/users/${u.id}/preferences`, { token: admin.access })).json(),
      ).toEqual({
        default_range_hours: 168,
        default_bucket: 'day',
      });
    });

    it('refuses out-of-range values, unknown fields, unknown ids, bad ids and a non-fresh token', async () => {
      const u = await createUser(t, 'ap');
      const put = (body: unknown, id: number | string = u.id, token = admin.access) =>
        t.request('PUT', `/admin/users/${id}/preferences`, { token, body });
      expectValidation(await put({ default_range_hours: 0 }), 'default_range_hours');
      expectValidation(await put({ default_range_hours: 721 }), 'default_range_hours');
      expectValidation(await put({ default_range_hours: 2.5 }), 'default_range_hours');
      expectValidation(await put({ default_bucket: 'week' }), 'default_bucket');
      expectValidation(await put({ default_bucket: 'day', user_id: 1 }));
      expectError(await put({ default_bucket: 'day' }, NO_SUCH_ID), 404);
      expectError(
        await t.request('GET', `/admin/users/${NO_SUCH_ID}/preferences`, { token: admin.access }),
        404,
      );
      expectValidation(await put({ default_bucket: 'day' }, 'abc'));
      expectValidation(await t.request('GET', '/admin/users/abc/preferences', { token: admin.access }));
      expectError(
        await put({ default_bucket: 'day' }, u.id, await nonFresh(admin)),
        403,
        'FRESH_TOKEN_REQUIRED',
      );
      expect((await t.request('GET', '/preferences', { token: u.access })).json()).toEqual({
        default_range_hours: 72,
        default_bucket: 'hour',
      });
    });

    it('writes an ADMIN_PREFERENCES_UPDATE audit row with the target user', async () => {
      const u = await createUser(t, 'ap');
      const put = await t.request('PUT', `/admin/users/${u.id}/preferences`, {
        token: admin.access,
        body: { default_bucket: 'day' },
      });
      expect(put.statusCode).toBe(200);
      const page = await adminLogs(`event_type=ADMIN_PREFERENCES_UPDATE&target_user_id=${u.id}`);
      expect(page.total).toBe(1);
      expect(page.logs[0]).toMatchObject({
        event_type: 'ADMIN_PREFERENCES_UPDATE',
        success: true,
        status_code: 200,
        http_method: 'PUT',
        path: `/admin/users/${u.id}/preferences`,
        actor_user_id: admin.id,
        actor_username: admin.userName,
        target_user_id: u.id,
      });
      expect(JSON.parse(page.logs[0].metadata_json ?? '{}')).toMatchObject({
        before: { default_bucket: 'hour' },
        after: { default_bucket: 'day' },
      });
      // It is not a PREFERENCES_UPDATE of the user.
      const own = await adminLogs(`event_type=PREFERENCES_UPDATE&target_user_id=${u.id}`);
      expect(own.total).toBe(0);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('admin routes refuse non-admins', () => {
    const ADMIN_ROUTES: [method: string, path: string, body?: unknown][] = [
      ['GET', '/admin/users'],
      ['PUT', '/admin/users/1/status', { status: 'SUSPENDED' }],
      ['PUT', '/admin/users/1/role', { role: 'USER' }],
      ['GET', '/admin/users/1/preferences'],
      ['PUT', '/admin/users/1/preferences', { default_bucket: 'day' }],
      ['GET', '/admin/logs'],
    ];

    it('a plain user gets 403 on every admin route, and each refusal is an ADMIN_ACCESS_DENIED row', async () => {
      const u = await createUser(t, 'na');
      for (const [method, path, body] of ADMIN_ROUTES) {
        const res = await t.request(method, path, { token: u.access, body });
        expect({ route: `${method} ${path}`, status: res.statusCode }).toEqual({
          route: `${method} ${path}`,
          status: 403,
        });
        expectError(res, 403, 'FORBIDDEN_ROLE');
      }
      const page = await adminLogs(`event_type=ADMIN_ACCESS_DENIED&actor_user_id=${u.id}`);
      expect(page.total).toBe(ADMIN_ROUTES.length);
      expect(page.logs.map((r) => `${r.http_method} ${r.path}`).sort()).toEqual(
        ADMIN_ROUTES.map(([m, p]) => `${m} ${p}`).sort(),
      );
      for (const r of page.logs) {
        expect(r).toMatchObject({
          event_type: 'ADMIN_ACCESS_DENIED',
          success: false,
          status_code: 403,
          actor_user_id: u.id,
          actor_username: u.userName,
        });
      }
      // Nothing was changed by those attempts.
      expect((await t.request('GET', '/whoami', { token: admin.access })).json()).toMatchObject({
        role: 'ADMIN',
      });
    });

    it('anonymous requests get 401 on every admin route', async () => {
      for (const [method, path, body] of ADMIN_ROUTES) {
        const res = await t.request(method, path, { body });
        expect({ route: `${method} ${path}`, status: res.statusCode }).toEqual({
          route: `${method} ${path}`,
          status: 401,
        });
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('GET /logs and GET /admin/logs', () => {
    it('answer the envelope {total, offset, limit, logs} with every contract field on each row', async () => {
      const u = await createUser(t, 'lg');
      const ua = 'e2e-agent/1.0 (audit test)';
      const put = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_bucket: 'day' },
        headers: { 'user-agent': ua },
        ip: '10.9.8.7',
      });
      expect(put.statusCode).toBe(200);

      for (const page of [await myLogs(u), await adminLogs(`actor_user_id=${u.id}`)]) {
        expect(Object.keys(page).sort()).toEqual(['limit', 'logs', 'offset', 'total']);
        expect(page).toMatchObject({ total: expect.any(Number), offset: 0, limit: 50 });
        expect(Array.isArray(page.logs)).toBe(true);
        expect(page.logs.length).toBeGreaterThanOrEqual(3); // register, login, preferences
        expect(page.total).toBe(page.logs.length);
        for (const r of page.logs) {
          expect(Object.keys(r).sort()).toEqual(LOG_KEYS);
          expect(r).toEqual({
            id: expect.any(Number),
            created_at: expect.stringMatching(ISO_UTC),
            event_type: expect.any(String),
            action: expect.any(String),
            success: expect.any(Boolean),
            status_code: r.status_code === null ? null : expect.any(Number),
            message: r.message === null ? null : expect.any(String),
            http_method: r.http_method === null ? null : expect.any(String),
            path: r.path === null ? null : expect.any(String),
            ip_address: r.ip_address === null ? null : expect.any(String),
            user_agent: r.user_agent === null ? null : expect.any(String),
            actor_user_id: u.id,
            actor_username: u.userName,
            target_user_id: r.target_user_id === null ? null : expect.any(Number),
            metadata_json: r.metadata_json === null ? null : expect.any(String),
          });
        }
        expect(page.logs.map((r) => r.event_type)).toEqual(
          expect.arrayContaining(['USER_REGISTER', 'LOGIN_SUCCESS', 'PREFERENCES_UPDATE']),
        );
        const row = page.logs.find((r) => r.event_type === 'PREFERENCES_UPDATE');
        expect(row).toMatchObject({
          action: expect.any(String),
          success: true,
          status_code: 200,
          http_method: 'PUT',
          path: '/preferences',
          ip_address: '10.9.8.7',
          user_agent: ua,
          target_user_id: u.id,
        });
        expect(() => JSON.parse(row?.metadata_json ?? '') as unknown).not.toThrow();
      }
    });

    it('GET /logs shows only your own rows: other users never appear, whatever the filters', async () => {
      const a = await createUser(t, 'own');
      const b = await createUser(t, 'own');
      await t.request('PUT', '/preferences', { token: a.access, body: { default_bucket: 'day' } });
      await t.request('PUT', '/preferences', { token: b.access, body: { default_bucket: 'day' } });
      await t.request('POST', '/login', { body: { user_name: b.userName, password: 'wrong-password' } });
      // An admin acting on A is the admin's event, not A's.
      await t.request('PUT', `/admin/users/${a.id}/preferences`, {
        token: admin.access,
        body: { default_range_hours: 5 },
      });

      const mine = await myLogs(a, 'limit=200');
      expect(mine.logs.length).toBeGreaterThanOrEqual(3);
      expect(mine.total).toBe(mine.logs.length);
      expect(mine.logs.every((r) => r.actor_user_id === a.id && r.actor_username === a.userName)).toBe(true);

      for (const q of [
        `actor_user_id=${b.id}`,
        `actor_username=${b.userName}`,
        `target_user_id=${b.id}`,
        'event_type=LOGIN_FAILURE',
        `actor_user_id=${admin.id}`,
        'event_type=ADMIN_PREFERENCES_UPDATE',
      ]) {
        const page = await myLogs(a, q);
        expect({ q, foreign: page.logs.filter((r) => r.actor_user_id !== a.id).length }).toEqual({
          q,
          foreign: 0,
        });
      }
      expect((await myLogs(a, `actor_username=${b.userName}`)).total).toBe(0);
      expect((await myLogs(a, `target_user_id=${b.id}`)).total).toBe(0);
      // B's rows exist, the admin sees them.
      expect((await adminLogs(`actor_user_id=${b.id}&event_type=LOGIN_FAILURE`)).total).toBe(1);
    });

    it('event_type, success, actor_user_id, target_user_id and actor_username filter and combine', async () => {
      const d = await createAdmin(t);
      const u = await createUser(t, 'flt');
      expect((await setStatus(u.id, 'SUSPENDED', d.access)).statusCode).toBe(200);
      expect((await setStatus(u.id, 'ACTIVE', d.access)).statusCode).toBe(200);
      expectError(await setStatus(NO_SUCH_ID, 'SUSPENDED', d.access), 404);
      const put = await t.request('PUT', `/admin/users/${u.id}/preferences`, {
        token: d.access,
        body: { default_bucket: 'day' },
      });
      expect(put.statusCode).toBe(200);

      const byD = `actor_user_id=${d.id}`;
      const status = await adminLogs(`event_type=ADMIN_USER_STATUS_CHANGE&${byD}`);
      expect(status.total).toBe(3);
      expect(
        status.logs.every((r) => r.event_type === 'ADMIN_USER_STATUS_CHANGE' && r.actor_user_id === d.id),
      ).toBe(true);

      const ok = await adminLogs(`event_type=ADMIN_USER_STATUS_CHANGE&${byD}&success=true`);
      expect(ok.logs.map((r) => [r.success, r.target_user_id, r.status_code])).toEqual([
        [true, u.id, 200],
        [true, u.id, 200],
      ]);
      const failed = await adminLogs(`event_type=ADMIN_USER_STATUS_CHANGE&${byD}&success=false`);
      expect(failed.logs.map((r) => [r.success, r.target_user_id, r.status_code])).toEqual([
        [false, NO_SUCH_ID, 404],
      ]);

      const onU = await adminLogs(`target_user_id=${u.id}&${byD}`);
      expect(onU.logs.map((r) => r.event_type)).toEqual([
        'ADMIN_PREFERENCES_UPDATE',
        'ADMIN_USER_STATUS_CHANGE',
        'ADMIN_USER_STATUS_CHANGE',
      ]);
      const allOnU = await adminLogs(`target_user_id=${u.id}&limit=200`);
      expect(allOnU.logs.every((r) => r.target_user_id === u.id)).toBe(true);
      expect(allOnU.logs.map((r) => r.event_type)).toEqual(
        expect.arrayContaining(['USER_REGISTER', 'LOGIN_SUCCESS']),
      );

      const byName = await adminLogs(`actor_username=${d.userName}&limit=200`);
      const byId = await adminLogs(`${byD}&limit=200`);
      expect(byName.total).toBe(byId.total);
      expect(byName.logs.map((r) => r.id)).toEqual(byId.logs.map((r) => r.id));
      expect(byName.logs.every((r) => r.actor_username === d.userName)).toBe(true);

      const combined = await adminLogs(
        `actor_username=${d.userName}&event_type=ADMIN_PREFERENCES_UPDATE&target_user_id=${u.id}&success=true`,
      );
      expect(combined.total).toBe(1);
      expect(combined.logs[0]).toMatchObject({
        event_type: 'ADMIN_PREFERENCES_UPDATE',
        target_user_id: u.id,
      });
      expect((await adminLogs(`${byD}&target_user_id=${u.id}&success=false`)).total).toBe(0);
      // an unknown event name is a mistake to point out, not an empty page
      const unknown = await t.request('GET', `/admin/logs?${byD}&event_type=NO_SUCH_EVENT`, {
        token: admin.access,
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().details[0]).toMatchObject({
        field: 'event_type',
        message: expect.stringContaining('PREFERENCES_UPDATE'),
      });

      const anyFailed = await adminLogs('success=false&limit=200');
      expect(anyFailed.logs.length).toBeGreaterThan(0);
      expect(anyFailed.logs.every((r) => !r.success)).toBe(true);
      const anyOk = await adminLogs('success=true&limit=200');
      expect(anyOk.logs.every((r) => r.success)).toBe(true);

      // Filters combine with a date range too.
      const now = Date.now();
      const range = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`;
      expect((await adminLogs(`${byD}&${range}`)).total).toBe(byId.total);
      const tomorrow = new Date(now + 86_400_000).toISOString().slice(0, 10);
      expect((await adminLogs(`${byD}&from=${tomorrow}`)).total).toBe(0);
    });

    it('from/to take YYYY-MM-DD (whole UTC days) or ISO timestamps, inclusive', async () => {
      const u = await createUser(t, 'dt');
      const clock = t.app.get(Clock);
      const at = async (iso: string, hours: number) => {
        const spy = jest.spyOn(clock, 'now').mockReturnValue(new Date(iso));
        try {
          const res = await t.request('PUT', '/preferences', {
            token: u.access,
            body: { default_range_hours: hours },
          });
          expect(res.statusCode).toBe(200);
        } finally {
          spy.mockRestore();
        }
      };
      await at('2021-03-10T12:00:00.000Z', 10);
      await at('2021-03-12T12:00:00.000Z', 12);
      const put = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_range_hours: 14 },
      });
      expect(put.statusCode).toBe(200);

      const hoursOf = (page: LogPage) =>
        page.logs.map(
          (r) =>
            (JSON.parse(r.metadata_json ?? '{}') as { after: { default_range_hours: number } }).after
              .default_range_hours,
        );
      const mine = async (q: string) => hoursOf(await myLogs(u, `event_type=PREFERENCES_UPDATE&${q}`));

      expect(await mine('')).toEqual([14, 12, 10]);
      const old = (await myLogs(u, 'event_type=PREFERENCES_UPDATE')).logs.slice(1).map((r) => r.created_at);
      expect(old).toEqual(['2021-03-12T12:00:00.000Z', '2021-03-10T12:00:00.000Z']);

      expect(await mine('from=2021-03-10&to=2021-03-10')).toEqual([10]);
      expect(await mine('from=2021-03-11&to=2021-03-12')).toEqual([12]);
      expect(await mine('to=2021-03-11')).toEqual([10]);
      expect(await mine('from=2021-03-11')).toEqual([14, 12]);
      expect(await mine('from=2021-03-13&to=2021-03-31')).toEqual([]);
      expect(await mine('from=2021-03-12T12:00:00Z&to=2021-03-12T12:00:00.000Z')).toEqual([12]);
      expect(await mine('from=2021-03-12T12:00:00.001Z')).toEqual([14]);
      expect(await mine('to=2021-03-12T11:59:59.999Z')).toEqual([10]);
      expect(
        await mine(`from=${encodeURIComponent('2021-03-12T13:00:00+01:00')}&to=2021-03-12T12:00Z`),
      ).toEqual([12]);

      const asAdmin = await adminLogs(
        `actor_user_id=${u.id}&event_type=PREFERENCES_UPDATE&from=2021-03-10&to=2021-03-12`,
      );
      expect(hoursOf(asAdmin)).toEqual([12, 10]);
      expect(asAdmin.total).toBe(2);
    });

    it('refuses bad dates and from > to with 400 on both routes', async () => {
      const u = await createUser(t, 'dt');
      for (const q of [
        'from=2021-02-30',
        'from=yesterday',
        'to=2021-13-01',
        'from=2021-03-12T10:00:60',
        'from=2021-03-12 10:00',
        'to=12/03/2021',
        'from=2021-03-12&to=2021-03-11',
        'from=2021-03-12T10:00:00Z&to=2021-03-12T09:59:59Z',
      ]) {
        for (const [path, token] of [
          ['/logs', u.access],
          ['/admin/logs', admin.access],
        ]) {
          const res = await t.request('GET', `${path}?${q}`, { token });
          expect({ path, q, status: res.statusCode, code: res.json().code }).toEqual({
            path,
            q,
            status: 400,
            code: 'VALIDATION_FAILED',
          });
        }
      }
    });

    it('refuses bad filter values with 400', async () => {
      const u = await createUser(t, 'bf');
      for (const q of [
        'success=yes',
        'success=1',
        'actor_user_id=abc',
        'actor_user_id=0',
        'target_user_id=-3',
      ]) {
        expectValidation(
          await t.request('GET', `/admin/logs?${q}`, { token: admin.access }),
          q.split('=')[0],
        );
        expectValidation(await t.request('GET', `/logs?${q}`, { token: u.access }), q.split('=')[0]);
      }
    });

    it('are newest first, page with limit (1–200) and offset, and echo them', async () => {
      const d = await createAdmin(t);
      for (const bucket of ['day', 'hour', 'day', 'hour']) {
        const res = await t.request('PUT', '/preferences', {
          token: d.access,
          body: { default_bucket: bucket },
        });
        expect(res.statusCode).toBe(200);
      }
      const full = await adminLogs(`actor_user_id=${d.id}&limit=200`);
      expect(full.total).toBeGreaterThanOrEqual(5);
      expect(full.logs).toHaveLength(full.total);
      expectNewestFirst(full.logs);
      expect(JSON.parse(full.logs[0].metadata_json ?? '{}')).toMatchObject({
        after: { default_bucket: 'hour' },
      });
      expect(full.logs[full.logs.length - 1].event_type).toBe('LOGIN_SUCCESS');

      const page = await adminLogs(`actor_user_id=${d.id}&limit=2&offset=1`);
      expect(page).toMatchObject({ total: full.total, limit: 2, offset: 1 });
      expect(page.logs.map((r) => r.id)).toEqual(full.logs.slice(1, 3).map((r) => r.id));
      const one = await adminLogs(`actor_user_id=${d.id}&limit=1`);
      expect(one.logs.map((r) => r.id)).toEqual([full.logs[0].id]);
      const beyond = await adminLogs(`actor_user_id=${d.id}&offset=${full.total}`);
      expect(beyond).toMatchObject({ total: full.total, logs: [] });

      const own = await myLogs(d, 'limit=2&offset=1');
      expect(own).toMatchObject({ total: full.total, limit: 2, offset: 1 });
      expect(own.logs.map((r) => r.id)).toEqual(full.logs.slice(1, 3).map((r) => r.id));

      const everything = await adminLogs('limit=200');
      expect(everything.limit).toBe(200);
      expect(everything.logs.length).toBeLessThanOrEqual(200);
      expectNewestFirst(everything.logs);

      for (const q of ['limit=0', 'limit=201', 'limit=-1', 'limit=abc', 'offset=-1']) {
        expectValidation(
          await t.request('GET', `/admin/logs?${q}`, { token: admin.access }),
          q.split('=')[0],
        );
        expectValidation(await t.request('GET', `/logs?${q}`, { token: d.access }), q.split('=')[0]);
      }
    });
  });
});

// -----------------------------------------------------------------------------------------------
describe('the last admin cannot be demoted', () => {
  let t: TestApp;
  let a: TestUser;
  let b: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    a = await createAdmin(t);
    b = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const adminIds = async (): Promise<number[]> => {
    const { rows } = await t.app.get(UsersService).list({ role: 'ADMIN' }, { limit: 200, offset: 0 });
    return rows.map((r) => r.user.id);
  };

  it('with two admins, one demotes the other; the demoted one can no longer act, not even below the route', async () => {
    expect((await adminIds()).sort()).toEqual([a.id, b.id].sort());
    const res = await t.request('PUT', `/admin/users/${b.id}/role`, {
      token: a.access,
      body: { role: 'USER' },
    });
    expect(res.statusCode).toBe(200);
    expect(await adminIds()).toEqual([a.id]);

    // B is a user now: the HTTP route no longer lets B act at all.
    const back = await t.request('PUT', `/admin/users/${a.id}/role`, {
      token: b.access,
      body: { role: 'USER' },
    });
    expect(back.statusCode).toBe(403);

    // Below the route too: the service checks the actor on the locked rows, so B (no longer an
    // admin) cannot demote A, the last admin, whoever calls it.
    const users = t.app.get(UsersService);
    const err = await users
      .setRole({ id: b.id, userName: b.userName }, a.id, 'USER', NO_REQUEST)
      .catch((e: unknown) => e);
    expect(toErrorBody(err).body).toEqual({
      error: expect.any(String),
      code: 'FORBIDDEN_ROLE',
      statusCode: 403,
    });
    expect(await adminIds()).toEqual([a.id]);
    expect((await t.request('GET', '/admin/users', { token: a.access })).statusCode).toBe(200);

    // Promoting a user to ADMIN (not a demotion) is fine, and then either can demote the other.
    expect((await users.setRole({ id: a.id, userName: a.userName }, b.id, 'ADMIN', NO_REQUEST)).role).toBe(
      'ADMIN',
    );
    expect((await users.setRole({ id: b.id, userName: b.userName }, a.id, 'USER', NO_REQUEST)).role).toBe(
      'USER',
    );
  });

  it('two admins demoting each other at the same time leave exactly one admin', async () => {
    for (let round = 0; round < 3; round++) {
      // Start each round with exactly A and B as admins.
      const users = t.app.get(UsersService);
      for (const u of [a, b]) {
        const current = await users.getById(u.id);
        if (current.role !== 'ADMIN') {
          const other = u === a ? b : a;
          await users.setRole({ id: other.id, userName: other.userName }, u.id, 'ADMIN', NO_REQUEST);
        }
      }
      expect((await adminIds()).sort()).toEqual([a.id, b.id].sort());
      const [ra, rb] = await Promise.all([
        t.request('PUT', `/admin/users/${b.id}/role`, { token: a.access, body: { role: 'USER' } }),
        t.request('PUT', `/admin/users/${a.id}/role`, { token: b.access, body: { role: 'USER' } }),
      ]);
      const statuses = [ra.statusCode, rb.statusCode].sort();
      expect(statuses[0]).toBe(200);
      expect([403, 422]).toContain(statuses[1]);
      const loser = ra.statusCode === 200 ? rb : ra;
      if (loser.statusCode === 422)
        expect(loser.json()).toMatchObject({ code: 'LAST_ADMIN', statusCode: 422 });
      const winner = ra.statusCode === 200 ? a : b;
      expect(await users.countActiveAdmins()).toBe(1);
      const survivor = await users.getById(winner.id);
      expect(survivor.role).toBe('ADMIN');
    }
  });
});
