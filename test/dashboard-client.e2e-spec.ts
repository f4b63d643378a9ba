import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin, uniqueName } from './factories/users';
import { DEMO_PROFILE } from '../src/config/demo-profile';
import { type Res, startTestApp, type TestApp } from './test-app';

/**
 * Replays, page by page, what the seed's React dashboard sends (../shared/API-CONTRACT.md, "What the
 * seed's React dashboard sends and reads"): its routes, query strings and bodies, its headers
 * (`Origin: http://localhost:3000`, `Content-Type: application/json` on every call, body-less POSTs
 * included, the access token as Bearer), its datetime-local ranges, and its one refresh-and-retry
 * on a 401. Each answer is checked for the status and the fields that client reads.
 */

jest.setTimeout(120_000);

const ORIGIN = 'http://localhost:3000';

/** What an `<input type="datetime-local">` holds: minutes, no seconds, no zone. */
const datetimeLocal = (d: Date): string => d.toISOString().slice(0, 16);

/** The client's axios instance: one per browser tab, tokens in local storage. */
class DashboardClient {
  access: string | null = null;
  refresh: string | null = null;
  readonly refreshes: number[] = [];

  constructor(private readonly t: TestApp) {}

  /** One call as axios sends it, with the client's 401 → POST /refresh {} → retry once. */
  async call(method: string, url: string, body?: unknown): Promise<Res> {
    const first = await this.send(method, url, body);
    if (first.statusCode !== 401 || !this.refresh || url === '/refresh' || url === '/login') return first;
    const r = await this.t.request('POST', '/refresh', {
      raw: '{}',
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        authorization: `Bearer ${this.refresh}`,
      },
    });
    this.refreshes.push(r.statusCode);
    if (r.statusCode !== 200) {
      this.access = null;
      this.refresh = null;
      return first;
    }
    this.access = r.json<{ access_token: string }>().access_token;
    return this.send(method, url, body);
  }

  private async send(method: string, url: string, body?: unknown): Promise<Res> {
    const headers: Record<string, string> = { origin: ORIGIN, 'content-type': 'application/json' };
    if (this.access) headers.authorization = `Bearer ${this.access}`;
    // axios sends no body for GET/DELETE and an empty one for a body-less POST, header included
    const raw =
      body === undefined ? (method === 'GET' || method === 'DELETE' ? undefined : '') : JSON.stringify(body);
    const res = await this.t.request(method, url, { headers, raw });
    // every answer must be readable by a script on the dashboard's origin
    expect({ url, allowOrigin: res.headers['access-control-allow-origin'] }).toEqual({
      url,
      allowOrigin: ORIGIN,
    });
    return res;
  }

  async login(userName: string, password: string): Promise<Res> {
    const res = await this.call('POST', '/login', { user_name: userName, password });
    if (res.statusCode === 200) {
      const b = res.json<{ access_token: string; refresh_token: string }>();
      this.access = b.access_token;
      this.refresh = b.refresh_token;
    }
    return res;
  }
}

function expectStatus(res: Res, status: number, what: string): void {
  expect({ what, status: res.statusCode, body: res.statusCode === status ? '' : res.body }).toEqual({
    what,
    status,
    body: '',
  });
}

/** What the client shows on an error: `error`, else `message`. */
function shownError(res: Res): string {
  const b = res.json<{ error?: string; message?: string }>();
  return b.error ?? b.message ?? '';
}

describe('the seed React dashboard, replayed request by request', () => {
  let t: TestApp;
  let backupDir: string;
  const password = 'correct-horse-1';
  const alice = { name: uniqueName('alice'), id: 0 };
  const bob = { name: uniqueName('bob'), id: 0 };
  let a: DashboardClient;
  let b: DashboardClient;
  let adminName: string;
  let adminPassword: string;

  beforeAll(async () => {
    backupDir = mkdtempSync(join(tmpdir(), 'dashboard-backups-'));
    t = await startTestApp({
      BACKUP_DIR: backupDir,
      // the demo profile (npm run start:demo): new accounts' records count, and the marketplace
      // page needs money in the wallets
      ...DEMO_PROFILE,
    });
    a = new DashboardClient(t);
    b = new DashboardClient(t);
    const admin = await createAdmin(t, 'admin-password-1');
    adminName = admin.userName;
    adminPassword = admin.password;
  });
  afterAll(async () => {
    await t.close();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('a CORS preflight from http://localhost:3000 allows the methods and headers the client sends', async () => {
    for (const [method, path] of [
      ['POST', '/transaction'],
      ['PUT', '/preferences'],
      ['PATCH', '/notifications/1/read'],
      ['DELETE', '/market/offers/1'],
      ['GET', '/whoami'],
    ]) {
      const res = await t.request('OPTIONS', path, {
        headers: {
          origin: ORIGIN,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });
      expect({ path, status: res.statusCode }).toEqual({ path, status: 204 });
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(String(res.headers['access-control-allow-methods'])).toContain(method);
      const allowed = String(res.headers['access-control-allow-headers']).toLowerCase();
      for (const h of ['authorization', 'content-type', 'idempotency-key']) expect(allowed).toContain(h);
    }
  });

  it('Register and Login: POST /user, POST /login, then GET /whoami and GET /preferences', async () => {
    for (const u of [alice, bob]) {
      const reg = await a.call('POST', '/user', { user_name: u.name, password });
      expectStatus(reg, 201, 'register');
      u.id = reg.json<{ id: number }>().id;
    }
    const wrong = await a.login(alice.name, 'not-the-password');
    expectStatus(wrong, 401, 'wrong password');
    expect(shownError(wrong)).toEqual(expect.any(String));

    expectStatus(await a.login(alice.name, password), 200, 'login');
    expectStatus(await b.login(bob.name, password), 200, 'login bob');
    const who = await a.call('GET', '/whoami');
    expectStatus(who, 200, 'whoami');
    const w = who.json<{ user_id?: number; id: number; role: string }>();
    expect(w.user_id ?? w.id).toBe(alice.id);
    expect(w.role.toUpperCase()).toBe('USER');
    const prefs = await a.call('GET', '/preferences');
    expectStatus(prefs, 200, 'preferences');
    expect(prefs.json()).toMatchObject({ default_range_hours: 72, default_bucket: 'hour' });
  });

  it('Transactions: a new account adds transactions with the form, lists them and downloads the CSV', async () => {
    for (const [usd, lbp, usdToLbp] of [
      [100, 8_950_000, true],
      [50, 4_480_000, true],
      [20, 1_795_000, false],
    ] as const) {
      const res = await a.call('POST', '/transaction', {
        usd_amount: usd,
        lbp_amount: lbp,
        usd_to_lbp: usdToLbp,
      });
      expectStatus(res, 201, 'add transaction');
      expect(res.json()).toMatchObject({ message: 'Transaction added successfully', usd_amount: usd });
    }
    const list = await a.call('GET', '/transactions');
    expectStatus(list, 200, 'transactions');
    const rows =
      list.json<{ usd_amount: number; lbp_amount: number; usd_to_lbp: boolean; created_at: string }[]>();
    expect(Array.isArray(rows)).toBe(true);
    expect(rows.map((r) => r.usd_amount)).toEqual([20, 50, 100]);

    const csv = await a.call('GET', '/transactions/export');
    expectStatus(csv, 200, 'export');
    expect(String(csv.headers['content-type'])).toMatch(/^text\/csv/);
    // the client reads the file name from Content-Disposition, so it must be exposed to scripts
    expect(String(csv.headers['access-control-expose-headers'])).toContain('Content-Disposition');
    const name = /filename="?([^"]+)"?/.exec(String(csv.headers['content-disposition']))?.[1];
    expect(name).toMatch(new RegExp(`^transactions_user${alice.id}_\\d{8}_\\d{6}\\.csv$`));
    expect(csv.body.split('\n')[0]).toBe('id,usd_amount,lbp_amount,usd_to_lbp,direction,rate,created_at');
  });

  it('Dashboard: the rate, the transactions, and analytics over a datetime-local range', async () => {
    const rate = await a.call('GET', '/exchangeRate');
    expectStatus(rate, 200, 'exchangeRate');
    expect(rate.json()).toHaveProperty('usd_to_lbp');
    expect(rate.json()).toHaveProperty('lbp_to_usd');
    expectStatus(await a.call('GET', '/transactions'), 200, 'transactions');

    const now = new Date();
    const from = datetimeLocal(new Date(now.getTime() - 72 * 3_600_000));
    const to = datetimeLocal(now); // "now" to the minute: the minute's records are in
    const an = await a.call('GET', `/analytics/exchange-rate?direction=usd_to_lbp&from=${from}&to=${to}`);
    expectStatus(an, 200, 'analytics with a datetime-local range');
    expect(an.json()).toMatchObject({
      direction: 'usd_to_lbp',
      from: `${from}:00.000Z`,
      to: `${to}:59.999Z`,
      total_transactions: 2,
      min_rate: 89_500,
      max_rate: 89_600,
    });
    for (const field of ['avg_rate', 'first_rate', 'last_rate', 'percentage_change'])
      expect(an.json()).toHaveProperty(field);

    // an empty range is 404 NO_DATA with a sentence, not a 400
    const empty = await a.call(
      'GET',
      '/analytics/exchange-rate?direction=usd_to_lbp&from=2020-01-01T10:00&to=2020-01-01T10:01',
    );
    expectStatus(empty, 404, 'empty range');
    expect(empty.json().code).toBe('NO_DATA');
    // an impossible date-time is a 400 naming the field
    const bad = await a.call(
      'GET',
      '/analytics/exchange-rate?direction=usd_to_lbp&from=2026-13-40T99:99&to=2026-12-05T21:46',
    );
    expectStatus(bad, 400, 'impossible from');
    expect(bad.json().details).toEqual([expect.objectContaining({ field: 'from' })]);
    expect(shownError(bad)).toContain('from');
  });

  it('History: preferences, hourly points and analytics over the same datetime-local range', async () => {
    expectStatus(await a.call('GET', '/preferences'), 200, 'preferences');
    const now = new Date();
    const from = datetimeLocal(new Date(now.getTime() - 24 * 3_600_000));
    const to = datetimeLocal(now);
    for (const bucket of ['hour', 'day']) {
      const h = await a.call(
        'GET',
        `/history/exchange-rate?direction=lbp_to_usd&bucket=${bucket}&from=${from}&to=${to}`,
      );
      expectStatus(h, 200, `history ${bucket}`);
      const points = h.json<{ points: { t: string; rate: number; count: number }[] }>().points;
      expect(points).toHaveLength(1);
      expect(points[0]).toMatchObject({ rate: 89_750, count: 1 });
    }
    const an = await a.call('GET', `/analytics/exchange-rate?direction=lbp_to_usd&from=${from}&to=${to}`);
    expectStatus(an, 200, 'history analytics');
    const bad = await a.call(
      'GET',
      '/history/exchange-rate?direction=usd_to_lbp&bucket=hour&from=2026-13-40T99:99&to=2026-12-05T21:46',
    );
    expectStatus(bad, 400, 'impossible from');
  });

  let offerId = 0;

  it('Marketplace: offers, a second user taking one with a body-less POST, trades, cancel', async () => {
    expectStatus(await a.call('GET', '/market/offers?include_mine=true'), 200, 'offers');
    expectStatus(await a.call('GET', '/market/trades'), 200, 'trades');
    const made = await a.call('POST', '/market/offers', {
      give_currency: 'USD',
      give_amount: 10,
      want_currency: 'LBP',
      want_amount: 895_000,
    });
    expectStatus(made, 201, 'create offer');
    offerId = made.json<{ id: number; status: string }>().id;
    expect(made.json().status).toBe('OPEN');

    const board = await b.call('GET', '/market/offers?include_mine=true');
    expect(board.json<{ id: number }[]>().map((o) => o.id)).toContain(offerId);
    const take = await b.call('POST', `/market/offers/${offerId}/accept`); // no body, JSON header
    expectStatus(take, 201, 'take offer');
    expect(take.json()).toMatchObject({ message: 'Offer accepted', trade_id: expect.any(Number) });
    const trades = await a.call('GET', '/market/trades');
    expect(trades.json<{ offer_id: number }[]>().map((x) => x.offer_id)).toEqual([offerId]);

    const second = await a.call('POST', '/market/offers', {
      give_currency: 'LBP',
      give_amount: 895_000,
      want_currency: 'USD',
      want_amount: 10,
    });
    expectStatus(second, 201, 'second offer');
    const cancel = await a.call('DELETE', `/market/offers/${second.json<{ id: number }>().id}`);
    expectStatus(cancel, 200, 'cancel');
    expect(cancel.json()).toMatchObject({ message: 'Offer cancelled', refunded_amount: 895_000 });
  });

  it('Alerts, watchlist, notifications and preferences pages', async () => {
    expectStatus(await a.call('GET', '/alerts'), 200, 'alerts');
    const triggered = await a.call('GET', '/alerts/triggered');
    expectStatus(triggered, 200, 'triggered');
    expect(triggered.json()).toMatchObject({ current_rates: expect.any(Object), triggered: [] });
    const alert = await a.call('POST', '/alerts', {
      direction: 'usd_to_lbp',
      condition: 'above',
      threshold: 95_000,
    });
    expectStatus(alert, 201, 'create alert');
    expectStatus(await a.call('DELETE', `/alerts/${alert.json<{ id: number }>().id}`), 200, 'delete alert');

    expectStatus(await a.call('GET', '/watchlist'), 200, 'watchlist');
    const item = await a.call('POST', '/watchlist', { item_type: 'direction', direction: 'usd_to_lbp' });
    expectStatus(item, 201, 'watch direction');
    const threshold = await a.call('POST', '/watchlist', {
      item_type: 'threshold',
      direction: 'lbp_to_usd',
      condition: 'below',
      threshold: 80_000,
    });
    expectStatus(threshold, 201, 'watch threshold');
    const listed = await a.call('GET', '/watchlist');
    expect(listed.json<{ current_rate: unknown }[]>()[0]).toHaveProperty('current_rate');
    expectStatus(await a.call('DELETE', `/watchlist/${item.json<{ id: number }>().id}`), 200, 'unwatch');

    // the take above notified alice (the maker)
    const notes = await a.call('GET', '/notifications?unread_only=false');
    expectStatus(notes, 200, 'notifications');
    const list = notes.json<{ id: number; is_read: boolean; title: string }[]>();
    expect(list.length).toBeGreaterThan(0);
    expectStatus(await a.call('PATCH', `/notifications/${list[0].id}/read`), 200, 'mark read');
    expectStatus(await a.call('DELETE', `/notifications/${list[0].id}`), 200, 'delete notification');

    const put = await a.call('PUT', '/preferences', { default_range_hours: 24, default_bucket: 'day' });
    expectStatus(put, 200, 'save preferences');
    expect(put.json()).toMatchObject({ default_range_hours: 24, default_bucket: 'day' });
  });

  it('an expired access token: the client refreshes once with {} and retries', async () => {
    a.access = 'expired.or.garbage';
    const who = await a.call('GET', '/whoami');
    expectStatus(who, 200, 'whoami after refresh');
    expect(a.refreshes).toEqual([200]);
  });

  it('Logout: a body-less POST /logout, after which the token no longer works', async () => {
    expectStatus(await b.call('POST', '/logout'), 200, 'logout');
    const token = b.access;
    b.refresh = null; // the client drops its tokens on logout
    expect(token).not.toBeNull();
    expectStatus(await b.call('GET', '/whoami'), 401, 'after logout');
  });
  describe('Admin console', () => {
    let c: DashboardClient;

    beforeAll(async () => {
      c = new DashboardClient(t);
      expectStatus(await c.login(adminName, adminPassword), 200, 'admin login');
    });

    it('users, stats, data quality, status and role changes', async () => {
      const users = await c.call('GET', '/admin/users');
      expectStatus(users, 200, 'users');
      expect(users.json<{ user_name: string }[]>().map((u) => u.user_name)).toEqual(
        expect.arrayContaining([alice.name, bob.name]),
      );
      const stats = await c.call('GET', '/admin/stats/transactions');
      expectStatus(stats, 200, 'stats');
      expect(stats.json()).toMatchObject({ total_transactions_all_time: 3 });
      const now = new Date();
      const dq = await c.call(
        'GET',
        `/admin/data-quality?from=${datetimeLocal(new Date(now.getTime() - 3_600_000))}&to=${datetimeLocal(now)}&direction=usd_to_lbp`,
      );
      expectStatus(dq, 200, 'data quality');
      expect(dq.json()).toMatchObject({ counts_by_direction: expect.any(Object), anomalies: [] });

      expectStatus(
        await c.call('PUT', `/admin/users/${bob.id}/status`, { status: 'SUSPENDED' }),
        200,
        'suspend',
      );
      expectStatus(await b.call('GET', '/whoami'), 403, 'suspended bob');
      expectStatus(
        await c.call('PUT', `/admin/users/${bob.id}/status`, { status: 'ACTIVE' }),
        200,
        'reactivate',
      );
      expectStatus(await c.call('PUT', `/admin/users/${bob.id}/role`, { role: 'ADMIN' }), 200, 'promote');
      expectStatus(await c.call('PUT', `/admin/users/${bob.id}/role`, { role: 'USER' }), 200, 'demote');
    });

    it('the audit filter takes the seed event names, and empty filter fields', async () => {
      const logs = async (q: string) => {
        const res = await c.call('GET', `/admin/logs?limit=50&offset=0&${q}`);
        expectStatus(res, 200, `logs ${q}`);
        return res.json<{
          total: number;
          logs: { event_type: string; success: boolean; actor_username: string | null; path: string }[];
        }>();
      };
      const fails = await logs('event_type=AUTH_LOGIN_FAIL');
      expect(fails.logs.length).toBeGreaterThan(0);
      expect(fails.logs.every((l) => l.event_type === 'LOGIN_FAILURE' && !l.success)).toBe(true);
      const tx = await logs(`event_type=TX_CREATE&actor_user_id=${alice.id}`);
      expect(tx.total).toBe(3);
      expect(tx.logs.every((l) => l.event_type === 'TRANSACTION_CREATE')).toBe(true);
      expect(
        (await logs('event_type=AUTH_LOGIN_SUCCESS')).logs.every((l) => l.event_type === 'LOGIN_SUCCESS'),
      ).toBe(true);
      expect((await logs('event_type=PREF_UPDATE')).logs.map((l) => l.event_type)).toEqual([
        'PREFERENCES_UPDATE',
      ]);
      expect((await logs('event_type=WATCHLIST_DELETE')).logs.map((l) => l.event_type)).toEqual([
        'WATCHLIST_REMOVE',
      ]);
      // a form's empty fields are no filter
      const all = await logs('from=&to=&actor_user_id=&target_user_id=&event_type=&success=');
      expect(all.total).toBeGreaterThan(tx.total);
      // ours still work, in any case
      expect((await logs('event_type=transaction_create')).total).toBe(3);

      const nope = await c.call('GET', '/admin/logs?event_type=NOPE');
      expectStatus(nope, 400, 'unknown event name');
      expect(nope.json().details).toEqual([
        { field: 'event_type', message: expect.stringContaining('AUTH_LOGIN_FAIL') },
      ]);
      expect(nope.json().details[0].message).toContain('TRANSACTION_CREATE');
    });

    it('backup, backup status printed as text, restore with a body-less POST', async () => {
      const none = await c.call('GET', '/admin/backup/status');
      expectStatus(none, 200, 'status before any backup');
      expect(none.json()).toMatchObject({ last_backup: null, last_backup_at: null, available_backups: 0 });

      const made = await c.call('POST', '/admin/backup'); // no body, JSON header
      expectStatus(made, 201, 'create backup');
      const status = await c.call('GET', '/admin/backup/status');
      expectStatus(status, 200, 'status');
      const s = status.json<Record<string, unknown>>();
      // the console prints these three as text: an object there unmounts the page
      expect(typeof s.last_backup).toBe('string');
      expect(s.last_backup).toBe(made.json().filename);
      expect(['number', 'string']).toContain(typeof s.available_backups);
      expect(typeof s.total_size).toBe('string');
      expect(s.last_backup_at).toBe(made.json().created_at);

      const restored = await c.call('POST', '/admin/restore'); // no body: the newest backup
      expectStatus(restored, 200, 'restore');
      expect(restored.json()).toMatchObject({
        filename: made.json().filename,
        funding_after_backup: [],
        session_kept: true,
      });
      // the console shows "Backup restored successfully" and asks for the status: its session was
      // kept (every other session ended), so the call answers without a refresh or a new login
      const after = await c.call('GET', '/admin/backup/status');
      expectStatus(after, 200, 'status after restore');
      expect(c.access).not.toBeNull();
      // the newest file is now the safety backup the restore took of the data it replaced
      expect(after.json().last_backup).toBe(restored.json().safety_backup);
      expect(after.json().available_backups).toBe(2);
      expect(typeof after.json().total_size).toBe('string');
      // everyone else signs in again
      const other = new DashboardClient(t);
      expectStatus(await other.login(alice.name, password), 200, 'alice logs in');
      const b4 = await c.call('POST', '/admin/backup');
      expectStatus(b4, 201, 'another backup');
      expectStatus(await c.call('POST', '/admin/restore'), 200, 'restore again');
      expectStatus(await other.call('GET', '/transactions'), 401, 'alice after the restore');
      expect(other.access).toBeNull();
      expectStatus(await other.login(alice.name, password), 200, 'alice logs in again');
    });
  });
});
