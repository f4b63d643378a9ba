import { AuditEvent, type AuditEventType } from '../src/audit/audit-events';
import { AuditService } from '../src/audit/audit.service';
import { ANONYMOUS_REFUSAL_ROWS_PER_MINUTE } from '../src/audit/refusal-auditor';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { TransactionRunner } from '../src/database/transaction-runner';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { decodeJwt, signClaims, tamperSignature } from './factories/tokens';
import { createAdmin, createUser, type TestUser, uniqueName } from './factories/users';
import { type RequestOptions, type Res, startTestApp, type TestApp } from './test-app';
import { AUDIT_LOG_KEYS } from './support/audit-log';

jest.setTimeout(180_000);

/**
 * Every audit event of the contract's list is produced here through the HTTP API (or the scheduler)
 * and found again with GET /admin/logs filters, with its success flag, actor, target, status code,
 * method, path, IP and user agent, and without any secret in it. BACKUP_CREATE and BACKUP_RESTORE
 * are not driven here: test/backups.e2e-spec.ts covers them.
 */
const COVERED_ELSEWHERE: AuditEventType[] = [AuditEvent.BACKUP_CREATE, AuditEvent.BACKUP_RESTORE];

const UA = 'audit-e2e/1.0 (events)';
const IP = '10.20.30.40';

const LOG_KEYS = AUDIT_LOG_KEYS;

interface LogRow {
  id: number;
  created_at: string;
  event_type: string;
  action: string;
  success: boolean;
  status_code: number | null;
  message: string | null;
  http_method: string | null;
  path: string | null;
  ip_address: string | null;
  user_agent: string | null;
  actor_user_id: number | null;
  actor_username: string | null;
  target_user_id: number | null;
  metadata_json: string | null;
}

interface LogPage {
  total: number;
  offset: number;
  limit: number;
  logs: LogRow[];
}

type Meta = Record<string, unknown>;
const meta = (r: LogRow): Meta => JSON.parse(r.metadata_json ?? '{}') as Meta;

/** Event types found by the tests below (the last test checks every one was). */
const seen = new Set<string>();
/** Every password and token the tests handled: none may show up in an audit row. */
const secrets = new Set<string>();

const keep = <T extends { password: string; access: string; refresh: string }>(u: T): T => {
  for (const s of [u.password, u.access, u.refresh]) secrets.add(s);
  return u;
};

function expectNoSecret(row: LogRow): void {
  const text = [row.metadata_json, row.message, row.user_agent, row.path, row.action].join('\n');
  for (const s of secrets) {
    if (text.includes(s)) throw new Error(`audit row ${row.id} (${row.event_type}) holds a secret: ${text}`);
  }
  const m = meta(row);
  for (const k of [
    'password',
    'current_password',
    'new_password',
    'token',
    'refresh_token',
    'access_token',
  ]) {
    if (k in m) expect({ key: k, value: m[k] }).toEqual({ key: k, value: '[REDACTED]' });
  }
}

/** Strict RFC 4180 reader (CRLF or LF records): throws on anything the writer should never produce. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && cell === '') {
      // quoted cell
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted cell');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n')
        throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    if (c === '"') throw new Error(`bare quote inside an unquoted cell at ${i}`);
    if (c === ',') {
      endCell();
      i++;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] !== '\n') throw new Error(`bare CR in an unquoted cell at ${i}`);
      endCell();
      rows.push(row);
      row = [];
      i += c === '\r' ? 2 : 1;
    } else {
      cell += c;
      i++;
    }
  }
  if (cell !== '' || row.length > 0) {
    endCell();
    rows.push(row);
  }
  return rows;
}

const FORMULA = /^[=+\-@\t\r\n]/;
/** What the export must hold for one JSON field. */
function expectedCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  return FORMULA.test(v) ? `'${v}` : v;
}

// -----------------------------------------------------------------------------------------------
describe('RATE_LIMIT_HIT on the auth and money routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    // The factories log in twice from 127.0.0.1 (admin and user); the tests use another IP.
    t = await startTestApp({
      LOGIN_RATE_LIMIT: '3',
      TRANSACTION_RATE_LIMIT: '2',
      STARTING_BALANCE_USD: '100',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a blocked login and a blocked transaction are each one RATE_LIMIT_HIT row', async () => {
    const admin = keep(await createAdmin(t));
    const u = keep(await createUser(t, 'rl'));
    const call = (method: string, url: string, opts: RequestOptions = {}) =>
      t.request(method, url, { ...opts, ip: IP, headers: { 'user-agent': UA, ...(opts.headers ?? {}) } });

    const name = uniqueName('rlname');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (await call('POST', '/login', { body: { user_name: name, password: 'not-the-pass' } })).statusCode,
      );
    expect(codes).toEqual([401, 401, 401, 429, 429]);

    const body = { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true };
    const tx: number[] = [];
    for (let i = 0; i < 4; i++)
      tx.push((await call('POST', '/transaction', { token: u.access, body })).statusCode);
    expect(tx).toEqual([201, 201, 429, 429]);

    const logs = async (q: string): Promise<LogRow[]> => {
      const res = await t.request('GET', `/admin/logs?event_type=RATE_LIMIT_HIT&${q}`, {
        token: admin.access,
      });
      expect(res.statusCode).toBe(200);
      return res.json<LogPage>().logs;
    };
    // one row per blocked client and window, not one per refused request
    const login = (await logs('success=false')).filter((r) => r.path === '/login');
    expect(login).toHaveLength(1);
    expect(login[0]).toMatchObject({
      success: false,
      status_code: 429,
      http_method: 'POST',
      path: '/login',
      ip_address: IP,
      user_agent: UA,
      actor_user_id: null,
    });
    expect(meta(login[0])).toMatchObject({ group: 'login', user_name: name.toLowerCase() });

    const money = await logs(`actor_user_id=${u.id}`);
    expect(money).toHaveLength(1);
    expect(money[0]).toMatchObject({
      success: false,
      status_code: 429,
      http_method: 'POST',
      path: '/transaction',
      ip_address: IP,
      user_agent: UA,
      actor_user_id: u.id,
      actor_username: u.userName,
    });
    expect(meta(money[0])).toMatchObject({ group: 'transaction', limit: 2 });
    for (const r of [...login, ...money]) expectNoSecret(r);
    seen.add(AuditEvent.RATE_LIMIT_HIT);
  });

  it('anonymous refusals write at most ANONYMOUS_REFUSAL_ROWS_PER_MINUTE rows per IP a minute (no log flooding)', async () => {
    const ip = '10.9.8.7';
    const sent = ANONYMOUS_REFUSAL_ROWS_PER_MINUTE + 10;
    for (let i = 0; i < sent; i++) {
      expect((await t.request('GET', '/admin/logs', { ip })).statusCode).toBe(401);
    }
    const rows: { n: unknown }[] = await t.app
      .get(DataSource)
      .query('SELECT COUNT(*) AS n FROM audit_logs WHERE ip_address = ?', [ip]);
    expect(Number(rows[0].n)).toBe(ANONYMOUS_REFUSAL_ROWS_PER_MINUTE);
    // another client is not affected
    expect((await t.request('GET', '/admin/logs', { ip: '10.9.8.6' })).statusCode).toBe(401);
    const other: { n: unknown }[] = await t.app
      .get(DataSource)
      .query('SELECT COUNT(*) AS n FROM audit_logs WHERE ip_address = ?', ['10.9.8.6']);
    expect(Number(other[0].n)).toBe(1);
  });
});

// -----------------------------------------------------------------------------------------------
describe('every audit event reaches GET /admin/logs', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '100000000',
      TRANSACTION_RATE_LIMIT: '100000',
      OFFER_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
      OUTLIER_MIN_SAMPLES: '5',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    admin = keep(await createAdmin(t));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  /** A request from IP with user agent UA (every HTTP row below must carry both). */
  const call = (method: string, url: string, opts: RequestOptions = {}): Promise<Res> =>
    t.request(method, url, { ...opts, ip: IP, headers: { 'user-agent': UA, ...(opts.headers ?? {}) } });

  const adminLogs = async (q: string): Promise<LogPage> => {
    const res = await t.request('GET', `/admin/logs?${q}`, { token: admin.access });
    expect(res.statusCode).toBe(200);
    return res.json<LogPage>();
  };

  /** A user registered and logged in through `call`. */
  const newUser = async (prefix: string): Promise<TestUser> => {
    const userName = uniqueName(prefix);
    const password = `pw-${prefix}-secret-1`;
    const reg = await call('POST', '/user', { body: { user_name: userName, password } });
    expect(reg.statusCode).toBe(201);
    const res = await call('POST', '/login', { body: { user_name: userName, password } });
    expect(res.statusCode).toBe(200);
    const b = res.json<{ access_token: string; refresh_token: string }>();
    return keep({
      id: reg.json<{ id: number }>().id,
      userName,
      password,
      access: b.access_token,
      refresh: b.refresh_token,
    });
  };

  interface Expect {
    success: boolean;
    actor: { id: number; userName: string } | null;
    target: number | null;
    status: number | null;
    method?: string;
    path?: string;
    /** The row comes from a request (IP and user agent set); false for the scheduler and the CLI. */
    http?: boolean;
    /** Narrows to one row when several match. */
    where?: (m: Meta, r: LogRow) => boolean;
  }

  /**
   * Finds the row with GET /admin/logs?event_type=<event>&<q> and checks every field the contract
   * lists; returns it.
   */
  const expectLogged = async (event: AuditEventType, q: string, e: Expect): Promise<LogRow> => {
    const page = await adminLogs(`event_type=${event}&limit=200&${q}`);
    const rows = page.logs.filter(
      (r) =>
        r.event_type === event &&
        r.success === e.success &&
        r.actor_user_id === (e.actor?.id ?? null) &&
        r.target_user_id === e.target &&
        r.status_code === e.status &&
        (e.where ? e.where(meta(r), r) : true),
    );
    if (rows.length === 0)
      throw new Error(`no ${event} row for ${q} matching ${JSON.stringify(e)}: ${JSON.stringify(page.logs)}`);
    const row = rows[0];
    expect(Object.keys(row).sort()).toEqual([...LOG_KEYS].sort());
    expect(row.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(row.action).toEqual(expect.any(String));
    expect(row.actor_username).toBe(e.actor?.userName ?? row.actor_username);
    if (e.http ?? true) {
      expect(row).toMatchObject({ ip_address: IP, user_agent: UA });
      expect(row.http_method).toBe(e.method);
      expect(row.path).toBe(e.path);
    } else {
      expect(row).toMatchObject({ http_method: null, path: null, ip_address: null, user_agent: null });
    }
    if (!e.success) expect(row.message).toEqual(expect.any(String));
    expect(() => meta(row)).not.toThrow();
    expectNoSecret(row);
    seen.add(event);
    return row;
  };

  // ---------------------------------------------------------------------------------------------
  it('ADMIN_CREATE: the admin bootstrap (npm run admin:create) is recorded, without request fields', async () => {
    const row = await expectLogged(AuditEvent.ADMIN_CREATE, `target_user_id=${admin.id}`, {
      success: true,
      actor: null,
      target: admin.id,
      status: null,
      http: false,
    });
    expect(meta(row)).toMatchObject({ source: 'test', user_name: admin.userName });
  });

  it('USER_REGISTER: a registration, and a refused one (400) with its password redacted', async () => {
    const u = await newUser('reg');
    await expectLogged(AuditEvent.USER_REGISTER, `target_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 201,
      method: 'POST',
      path: '/user',
    });

    const name = uniqueName('badreg');
    secrets.add('shortpw');
    expect((await call('POST', '/user', { body: { user_name: name, password: 'shortpw' } })).statusCode).toBe(
      400,
    );
    const row = await expectLogged(AuditEvent.USER_REGISTER, 'success=false', {
      success: false,
      actor: null,
      target: null,
      status: 400,
      method: 'POST',
      path: '/user',
      where: (m) => (m.body as Meta | undefined)?.user_name === name,
    });
    expect(meta(row)).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [expect.objectContaining({ field: 'password' })],
      body: { user_name: name, password: '[REDACTED]' },
    });
  });

  it('LOGIN_SUCCESS, and LOGIN_FAILURE with its reason (wrong password, unknown user, invalid body)', async () => {
    const u = await newUser('lg');
    await expectLogged(AuditEvent.LOGIN_SUCCESS, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'POST',
      path: '/login',
    });

    secrets.add('wrong-password-1');
    const bad = await call('POST', '/login', {
      body: { user_name: u.userName, password: 'wrong-password-1' },
    });
    expect(bad.statusCode).toBe(401);
    const wrong = await expectLogged(AuditEvent.LOGIN_FAILURE, `actor_user_id=${u.id}`, {
      success: false,
      actor: u,
      target: u.id,
      status: 401,
      method: 'POST',
      path: '/login',
    });
    expect(meta(wrong)).toMatchObject({ reason: 'WRONG_PASSWORD' });

    const ghost = uniqueName('ghost');
    expect(
      (await call('POST', '/login', { body: { user_name: ghost, password: 'wrong-password-1' } })).statusCode,
    ).toBe(401);
    const unknown = await expectLogged(AuditEvent.LOGIN_FAILURE, `actor_username=${ghost}`, {
      success: false,
      actor: null,
      target: null,
      status: 401,
      method: 'POST',
      path: '/login',
    });
    expect(unknown.actor_username).toBe(ghost);
    expect(meta(unknown)).toMatchObject({ reason: 'UNKNOWN_USER' });

    expect((await call('POST', '/login', { body: { user_name: u.userName } })).statusCode).toBe(400);
    const invalid = await expectLogged(AuditEvent.LOGIN_FAILURE, 'success=false', {
      success: false,
      actor: null,
      target: null,
      status: 400,
      method: 'POST',
      path: '/login',
      where: (m) => (m.body as Meta | undefined)?.user_name === u.userName,
    });
    expect(meta(invalid)).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('TOKEN_REFRESH, TOKEN_REUSE_DETECTED (a spent refresh token) and LOGOUT', async () => {
    const u = await newUser('tok');
    const r0 = u.refresh;
    const first = await call('POST', '/refresh', { token: r0 });
    expect(first.statusCode).toBe(200);
    const r1 = first.json<{ refresh_token: string; access_token: string }>();
    secrets.add(r1.refresh_token).add(r1.access_token);
    await expectLogged(AuditEvent.TOKEN_REFRESH, `actor_user_id=${u.id}&success=true`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'POST',
      path: '/refresh',
    });

    // using r1 spends r0; presenting r0 again is reuse and ends the session
    const second = await call('POST', '/refresh', { token: r1.refresh_token });
    expect(second.statusCode).toBe(200);
    const r2 = second.json<{ refresh_token: string; access_token: string }>();
    secrets.add(r2.refresh_token).add(r2.access_token);
    const reuse = await call('POST', '/refresh', { token: r0 });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json<{ code: string }>().code).toBe('TOKEN_REUSED');
    const row = await expectLogged(AuditEvent.TOKEN_REUSE_DETECTED, `actor_user_id=${u.id}`, {
      success: false,
      actor: u,
      target: u.id,
      status: 401,
      method: 'POST',
      path: '/refresh',
    });
    expect(meta(row)).toMatchObject({ session_id: expect.any(String), token_id: expect.any(String) });

    // the whole family is dead now: a refused refresh is a TOKEN_REFRESH failure (from the guard)
    expect((await call('POST', '/refresh', { token: r2.refresh_token })).statusCode).toBe(401);
    const refused = await expectLogged(AuditEvent.TOKEN_REFRESH, 'success=false', {
      success: false,
      actor: null,
      target: null,
      status: 401,
      method: 'POST',
      path: '/refresh',
    });
    expect(meta(refused)).toEqual(expect.objectContaining({ code: expect.any(String) }));

    const v = await newUser('out');
    expect((await call('POST', '/logout', { token: v.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.LOGOUT, `actor_user_id=${v.id}`, {
      success: true,
      actor: v,
      target: v.id,
      status: 200,
      method: 'POST',
      path: '/logout',
    });
  });

  it('FRESH_LOGIN and PASSWORD_CHANGE: done, wrong current password (401) and a stale token (403)', async () => {
    const u = await newUser('pw');
    const refreshed = await call('POST', '/refresh', { token: u.refresh });
    const stale = refreshed.json<{ access_token: string; refresh_token: string }>();
    secrets.add(stale.access_token).add(stale.refresh_token);
    const change = (token: string, current: string, next: string) =>
      call('PUT', '/user/password', { token, body: { current_password: current, new_password: next } });

    secrets.add('new-password-2');
    expect((await change(stale.access_token, u.password, 'new-password-2')).statusCode).toBe(403);
    const staleRow = await expectLogged(AuditEvent.PASSWORD_CHANGE, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 403,
      method: 'PUT',
      path: '/user/password',
    });
    expect(meta(staleRow)).toMatchObject({ code: 'FRESH_TOKEN_REQUIRED' });

    const fresh = await call('POST', '/auth/fresh', {
      token: stale.access_token,
      body: { password: u.password },
    });
    expect(fresh.statusCode).toBe(200);
    const freshToken = fresh.json<{ access_token: string }>().access_token;
    secrets.add(freshToken);
    await expectLogged(AuditEvent.FRESH_LOGIN, `actor_user_id=${u.id}&success=true`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'POST',
      path: '/auth/fresh',
    });

    expect((await change(freshToken, 'wrong-password-1', 'new-password-2')).statusCode).toBe(401);
    const wrong = await expectLogged(AuditEvent.PASSWORD_CHANGE, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: u.id,
      status: 401,
      method: 'PUT',
      path: '/user/password',
    });
    expect(meta(wrong)).toMatchObject({ reason: 'WRONG_CURRENT_PASSWORD' });

    expect((await change(freshToken, u.password, 'new-password-2')).statusCode).toBe(200);
    await expectLogged(AuditEvent.PASSWORD_CHANGE, `actor_user_id=${u.id}&success=true`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'PUT',
      path: '/user/password',
    });
  });

  it('PREFERENCES_UPDATE, with the values before and after', async () => {
    const u = await newUser('pref');
    expect(
      (await call('PUT', '/preferences', { token: u.access, body: { default_bucket: 'day' } })).statusCode,
    ).toBe(200);
    const row = await expectLogged(AuditEvent.PREFERENCES_UPDATE, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'PUT',
      path: '/preferences',
    });
    expect(meta(row)).toMatchObject({ before: { default_bucket: 'hour' }, after: { default_bucket: 'day' } });
  });

  it('TRANSACTION_CREATE: accepted, and refused for RATE_OUTLIER, a bad body and no token', async () => {
    const u = await newUser('tx');
    const post = (usd: number, lbp: number, token: string | undefined = u.access) =>
      call('POST', '/transaction', { token, body: { usd_amount: usd, lbp_amount: lbp, usd_to_lbp: true } });
    // three other contributors, five samples: the outlier guard has its baseline from here on
    const others = [await newUser('txa'), await newUser('txb'), await newUser('txc')];
    for (const [i, lbp] of [890000, 895000, 900000, 898000, 896000].entries())
      expect((await post(10, lbp, others[i % 3].access)).statusCode).toBe(201);
    expect((await post(10, 895000)).statusCode).toBe(201);
    const ok = await expectLogged(AuditEvent.TRANSACTION_CREATE, `actor_user_id=${u.id}&success=true`, {
      success: true,
      actor: u,
      target: u.id,
      status: 201,
      method: 'POST',
      path: '/transaction',
    });
    expect(meta(ok)).toMatchObject({ transaction_id: expect.any(Number), direction: 'usd_to_lbp' });

    expect((await post(10, 3000000)).statusCode).toBe(422);
    const outlier = await expectLogged(AuditEvent.TRANSACTION_CREATE, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 422,
      method: 'POST',
      path: '/transaction',
      where: (m) => m.code === 'RATE_OUTLIER',
    });
    // why, and what was attempted
    expect(meta(outlier)).toMatchObject({
      details: expect.arrayContaining([expect.objectContaining({ field: 'baseline_median' })]),
      body: { usd_amount: 10, lbp_amount: 3000000, usd_to_lbp: true },
    });

    expect((await post(-1, 89500)).statusCode).toBe(400);
    await expectLogged(AuditEvent.TRANSACTION_CREATE, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 400,
      method: 'POST',
      path: '/transaction',
      where: (m) => m.code === 'VALIDATION_FAILED',
    });

    // an auth failure on an audited route is recorded under the route's event, without the token
    const forged = tamperSignature(u.access);
    secrets.add(forged);
    expect((await post(1, 89500, forged)).statusCode).toBe(401);
    const noAuth = await expectLogged(AuditEvent.TRANSACTION_CREATE, 'success=false', {
      success: false,
      actor: null,
      target: null,
      status: 401,
      method: 'POST',
      path: '/transaction',
    });
    expect(meta(noAuth)).toEqual({ code: 'INVALID_TOKEN', request_id: expect.any(String) });
  });

  it('OFFER_CREATE, OFFER_ACCEPT, OFFER_CANCEL, and a refused create (INSUFFICIENT_BALANCE)', async () => {
    const maker = await newUser('mk');
    const taker = await newUser('tk');
    const usdOffer = { give_currency: 'USD', give_amount: 10, want_currency: 'LBP', want_amount: 895000 };
    const created = await call('POST', '/market/offers', { token: maker.access, body: usdOffer });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: number }>().id;
    await expectLogged(AuditEvent.OFFER_CREATE, `actor_user_id=${maker.id}&success=true`, {
      success: true,
      actor: maker,
      target: maker.id,
      status: 201,
      method: 'POST',
      path: '/market/offers',
      where: (m) => m.offer_id === id,
    });

    const accepted = await call('POST', `/market/offers/${id}/accept`, { token: taker.access });
    expect(accepted.statusCode).toBe(201);
    const trade = accepted.json<{ trade_id: number }>().trade_id;
    await expectLogged(AuditEvent.OFFER_ACCEPT, `actor_user_id=${taker.id}&target_user_id=${maker.id}`, {
      success: true,
      actor: taker,
      target: maker.id,
      status: 201,
      method: 'POST',
      path: `/market/offers/${id}/accept`,
      where: (m) => m.offer_id === id && m.trade_id === trade,
    });
    // taking it again: refused (409), with the offer id from the route
    expect((await call('POST', `/market/offers/${id}/accept`, { token: taker.access })).statusCode).toBe(409);
    await expectLogged(AuditEvent.OFFER_ACCEPT, `actor_user_id=${taker.id}&success=false`, {
      success: false,
      actor: taker,
      target: null,
      status: 409,
      method: 'POST',
      path: `/market/offers/${id}/accept`,
      where: (m) => (m.params as Meta | undefined)?.id === String(id),
    });

    const second = await call('POST', '/market/offers', { token: maker.access, body: usdOffer });
    const id2 = second.json<{ id: number }>().id;
    expect((await call('DELETE', `/market/offers/${id2}`, { token: maker.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.OFFER_CANCEL, `actor_user_id=${maker.id}`, {
      success: true,
      actor: maker,
      target: maker.id,
      status: 200,
      method: 'DELETE',
      path: `/market/offers/${id2}`,
      where: (m) => m.offer_id === id2,
    });

    const huge = { ...usdOffer, give_amount: 100000, want_amount: 8950000000 };
    expect((await call('POST', '/market/offers', { token: maker.access, body: huge })).statusCode).toBe(422);
    await expectLogged(AuditEvent.OFFER_CREATE, `actor_user_id=${maker.id}&success=false`, {
      success: false,
      actor: maker,
      target: null,
      status: 422,
      method: 'POST',
      path: '/market/offers',
      where: (m) => m.code === 'INSUFFICIENT_BALANCE',
    });
  });

  it('DEPOSIT_*, WITHDRAWAL_*, QUOTE_CREATE and CONVERSION_CREATE, and their refusals', async () => {
    const u = await newUser('fd');
    const mine = (
      event: AuditEventType,
      status: number,
      method: string,
      path: string,
      where?: Expect['where'],
    ) =>
      expectLogged(event, `actor_user_id=${u.id}`, {
        success: true,
        actor: u,
        target: u.id,
        status,
        method,
        path,
        where,
      });
    const byAdmin = (event: AuditEventType, path: string, where: Expect['where']) =>
      expectLogged(event, `actor_user_id=${admin.id}&target_user_id=${u.id}`, {
        success: true,
        actor: admin,
        target: u.id,
        status: 200,
        method: 'POST',
        path,
        where,
      });
    const request = async (url: string, body: Record<string, unknown>): Promise<number> => {
      const res = await call('POST', url, { token: u.access, body });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 201 });
      return res.json<{ id: number }>().id;
    };
    const deposit = { currency: 'USD', amount: 25, reference: 'transfer 1' };
    const [d1, d2, d3] = [
      await request('/wallet/deposits', deposit),
      await request('/wallet/deposits', deposit),
      await request('/wallet/deposits', deposit),
    ];
    await mine(AuditEvent.DEPOSIT_REQUEST, 201, 'POST', '/wallet/deposits', (m) => m.deposit_id === d1);
    expect((await call('DELETE', `/wallet/deposits/${d1}`, { token: u.access })).statusCode).toBe(200);
    await mine(
      AuditEvent.DEPOSIT_CANCEL,
      200,
      'DELETE',
      `/wallet/deposits/${d1}`,
      (m) => m.deposit_id === d1,
    );
    expect((await call('POST', `/admin/deposits/${d2}/confirm`, { token: admin.access })).statusCode).toBe(
      200,
    );
    await byAdmin(AuditEvent.DEPOSIT_CONFIRM, `/admin/deposits/${d2}/confirm`, (m) => m.deposit_id === d2);
    expect((await call('POST', `/admin/deposits/${d3}/reject`, { token: admin.access })).statusCode).toBe(
      200,
    );
    await byAdmin(AuditEvent.DEPOSIT_REJECT, `/admin/deposits/${d3}/reject`, (m) => m.deposit_id === d3);
    // deciding twice: refused, and recorded
    expect((await call('POST', `/admin/deposits/${d2}/confirm`, { token: admin.access })).statusCode).toBe(
      409,
    );
    await expectLogged(AuditEvent.DEPOSIT_CONFIRM, `actor_user_id=${admin.id}&success=false`, {
      success: false,
      actor: admin,
      target: null,
      status: 409,
      method: 'POST',
      path: `/admin/deposits/${d2}/confirm`,
      where: (m) => m.code === 'NOT_PENDING',
    });

    const payout = { currency: 'USD', amount: 5, destination: 'agent 7, Hamra' };
    const [w1, w2, w3] = [
      await request('/wallet/withdrawals', payout),
      await request('/wallet/withdrawals', payout),
      await request('/wallet/withdrawals', payout),
    ];
    await mine(
      AuditEvent.WITHDRAWAL_REQUEST,
      201,
      'POST',
      '/wallet/withdrawals',
      (m) => m.withdrawal_id === w1,
    );
    expect((await call('DELETE', `/wallet/withdrawals/${w1}`, { token: u.access })).statusCode).toBe(200);
    await mine(
      AuditEvent.WITHDRAWAL_CANCEL,
      200,
      'DELETE',
      `/wallet/withdrawals/${w1}`,
      (m) => m.withdrawal_id === w1,
    );
    const complete = `/admin/withdrawals/${w2}/complete`;
    expect((await call('POST', complete, { token: admin.access, body: { note: 'paid' } })).statusCode).toBe(
      200,
    );
    await byAdmin(
      AuditEvent.WITHDRAWAL_COMPLETE,
      complete,
      (m) => m.withdrawal_id === w2 && m.note === 'paid',
    );
    expect((await call('POST', `/admin/withdrawals/${w3}/reject`, { token: admin.access })).statusCode).toBe(
      200,
    );
    await byAdmin(
      AuditEvent.WITHDRAWAL_REJECT,
      `/admin/withdrawals/${w3}/reject`,
      (m) => m.withdrawal_id === w3,
    );
    const tooMuch = await call('POST', '/wallet/withdrawals', {
      token: u.access,
      body: { ...payout, amount: 1e9 },
    });
    expect(tooMuch.statusCode).toBe(422);
    await expectLogged(AuditEvent.WITHDRAWAL_REQUEST, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 422,
      method: 'POST',
      path: '/wallet/withdrawals',
      where: (m) => m.code === 'INSUFFICIENT_BALANCE' || m.code === 'LIMIT_EXCEEDED',
    });

    // the records above give the house its reference rate
    const quote = await request('/quotes', { from_currency: 'USD', to_currency: 'LBP', from_amount: 10 });
    await mine(AuditEvent.QUOTE_CREATE, 201, 'POST', '/quotes', (m) => m.quote_id === quote);
    expect(
      (await call('POST', '/wallet/convert', { token: u.access, body: { quote_id: quote } })).statusCode,
    ).toBe(201);
    await mine(AuditEvent.CONVERSION_CREATE, 201, 'POST', '/wallet/convert', (m) => m.quote_id === quote);
    expect(
      (await call('POST', '/wallet/convert', { token: u.access, body: { quote_id: quote } })).statusCode,
    ).toBe(409);
    await expectLogged(AuditEvent.CONVERSION_CREATE, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 409,
      method: 'POST',
      path: '/wallet/convert',
      where: (m) => m.code === 'QUOTE_USED',
    });
  });

  it('OFFER_EXPIRE from the scheduled sweep (no actor, no request)', async () => {
    const maker = await newUser('exp');
    const res = await call('POST', '/market/offers', {
      token: maker.access,
      body: {
        give_currency: 'USD',
        give_amount: 5,
        want_currency: 'LBP',
        want_amount: 447500,
        expires_in_hours: 1,
      },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json<{ id: number }>().id;
    const clock = t.app.get(Clock);
    const spy = jest.spyOn(clock, 'now').mockReturnValue(new Date(Date.now() + 3_601_000));
    try {
      await t.app.get(SchedulerService).runJob('offer-expiry', 'x');
    } finally {
      spy.mockRestore();
    }
    const row = await expectLogged(AuditEvent.OFFER_EXPIRE, `target_user_id=${maker.id}`, {
      success: true,
      actor: null,
      target: maker.id,
      status: null,
      http: false,
    });
    expect(meta(row)).toMatchObject({ offer_id: id, refunded_amount: '5.00' });
  });

  it('ALERT_CREATE, ALERT_DELETE and ALERT_TRIGGERED', async () => {
    const u = await newUser('al');
    const make = (threshold: number) =>
      call('POST', '/alerts', {
        token: u.access,
        body: { direction: 'usd_to_lbp', condition: 'above', threshold },
      });
    const far = await make(1e9);
    expect(far.statusCode).toBe(201);
    const farId = far.json<{ id: number }>().id;
    await expectLogged(AuditEvent.ALERT_CREATE, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 201,
      method: 'POST',
      path: '/alerts',
      where: (m) => m.alert_id === farId,
    });
    expect((await call('DELETE', `/alerts/${farId}`, { token: u.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.ALERT_DELETE, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'DELETE',
      path: `/alerts/${farId}`,
      where: (m) => m.alert_id === farId,
    });
    expect((await call('DELETE', `/alerts/${farId}`, { token: u.access })).statusCode).toBe(404);
    await expectLogged(AuditEvent.ALERT_DELETE, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 404,
      method: 'DELETE',
      path: `/alerts/${farId}`,
    });

    // an alert the market already meets fires with the next accepted sample
    const near = (await make(1)).json<{ id: number }>().id;
    const tx = await call('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true },
    });
    expect(tx.statusCode).toBe(201);
    const fired = await expectLogged(AuditEvent.ALERT_TRIGGERED, `target_user_id=${u.id}`, {
      success: true,
      actor: null,
      target: u.id,
      status: null,
      http: false,
    });
    expect(meta(fired)).toMatchObject({ alert_id: near, trigger_rate: expect.any(Number) });
  });

  it('WEBHOOK_CREATE, WEBHOOK_ROTATE_SECRET and WEBHOOK_DELETE (never with the secret)', async () => {
    const u = await newUser('wh');
    const created = await call('POST', '/webhooks', {
      token: u.access,
      body: { url: 'http://127.0.0.1:9/hook', events: ['notification'] },
    });
    expect(created.statusCode).toBe(201);
    const { id, secret } = created.json<{ id: number; secret: string }>();
    const row = await expectLogged(AuditEvent.WEBHOOK_CREATE, `actor_user_id=${u.id}&success=true`, {
      success: true,
      actor: u,
      target: u.id,
      status: 201,
      method: 'POST',
      path: '/webhooks',
      where: (m) => m.webhook_id === id,
    });
    expect(JSON.stringify(row)).not.toContain(secret);
    expect((await call('POST', `/webhooks/${id}/rotate-secret`, { token: u.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.WEBHOOK_ROTATE_SECRET, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'POST',
      path: `/webhooks/${id}/rotate-secret`,
    });
    expect((await call('DELETE', `/webhooks/${id}`, { token: u.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.WEBHOOK_DELETE, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'DELETE',
      path: `/webhooks/${id}`,
    });
  });

  it('WATCHLIST_ADD (and a refused duplicate, 409) and WATCHLIST_REMOVE', async () => {
    const u = await newUser('wl');
    const body = { item_type: 'direction', direction: 'lbp_to_usd' };
    const added = await call('POST', '/watchlist', { token: u.access, body });
    expect(added.statusCode).toBe(201);
    const id = added.json<{ id: number }>().id;
    await expectLogged(AuditEvent.WATCHLIST_ADD, `actor_user_id=${u.id}&success=true`, {
      success: true,
      actor: u,
      target: u.id,
      status: 201,
      method: 'POST',
      path: '/watchlist',
      where: (m) => m.watchlist_item_id === id,
    });
    expect((await call('POST', '/watchlist', { token: u.access, body })).statusCode).toBe(409);
    await expectLogged(AuditEvent.WATCHLIST_ADD, `actor_user_id=${u.id}&success=false`, {
      success: false,
      actor: u,
      target: null,
      status: 409,
      method: 'POST',
      path: '/watchlist',
    });
    expect((await call('DELETE', `/watchlist/${id}`, { token: u.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.WATCHLIST_REMOVE, `actor_user_id=${u.id}`, {
      success: true,
      actor: u,
      target: u.id,
      status: 200,
      method: 'DELETE',
      path: `/watchlist/${id}`,
    });
  });

  it('admin actions on users: status, role, preferences, wallet adjustment (and a refused one)', async () => {
    const u = await newUser('adm');
    const as = { token: admin.access };
    const path = (p: string) => `/admin/users/${u.id}${p}`;
    const A = { id: admin.id, userName: admin.userName };

    expect((await call('PUT', path('/status'), { ...as, body: { status: 'SUSPENDED' } })).statusCode).toBe(
      200,
    );
    const status = await expectLogged(AuditEvent.ADMIN_USER_STATUS_CHANGE, `target_user_id=${u.id}`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'PUT',
      path: path('/status'),
    });
    expect(meta(status)).toMatchObject({ previous_status: 'ACTIVE', status: 'SUSPENDED' });
    expect((await call('PUT', path('/status'), { ...as, body: { status: 'ACTIVE' } })).statusCode).toBe(200);

    expect((await call('PUT', path('/role'), { ...as, body: { role: 'ADMIN' } })).statusCode).toBe(200);
    await expectLogged(AuditEvent.ADMIN_USER_ROLE_CHANGE, `target_user_id=${u.id}`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'PUT',
      path: path('/role'),
      where: (m) => m.role === 'ADMIN',
    });
    expect((await call('PUT', path('/role'), { ...as, body: { role: 'USER' } })).statusCode).toBe(200);

    expect(
      (await call('PUT', path('/trust'), { ...as, body: { trusted: true, note: 'known agent' } })).statusCode,
    ).toBe(200);
    const trust = await expectLogged(AuditEvent.ADMIN_USER_TRUST_CHANGE, `target_user_id=${u.id}`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'PUT',
      path: path('/trust'),
    });
    expect(meta(trust)).toMatchObject({ trusted: true, established: true, note: 'known agent' });

    expect(
      (await call('PUT', path('/preferences'), { ...as, body: { default_range_hours: 24 } })).statusCode,
    ).toBe(200);
    await expectLogged(AuditEvent.ADMIN_PREFERENCES_UPDATE, `target_user_id=${u.id}`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'PUT',
      path: path('/preferences'),
    });

    const adjust = (body: unknown) => call('POST', path('/wallet/adjust'), { ...as, body });
    expect((await adjust({ currency: 'USD', amount: 5, reason: 'goodwill credit' })).statusCode).toBe(200);
    const adj = await expectLogged(AuditEvent.ADMIN_WALLET_ADJUST, `target_user_id=${u.id}&success=true`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'POST',
      path: path('/wallet/adjust'),
    });
    expect(meta(adj)).toMatchObject({ currency: 'USD', amount: '5.00', reason: 'goodwill credit' });
    // below zero: refused and recorded against the same target
    expect((await adjust({ currency: 'USD', amount: -1e9, reason: 'too much' })).statusCode).toBe(422);
    await expectLogged(AuditEvent.ADMIN_WALLET_ADJUST, `target_user_id=${u.id}&success=false`, {
      success: false,
      actor: A,
      target: u.id,
      status: 422,
      method: 'POST',
      path: path('/wallet/adjust'),
    });
  });

  it('admin actions on rates: ADMIN_RATE_CREATE, ADMIN_RATE_IMPORT, ADMIN_RATE_OVERRIDE', async () => {
    const as = { token: admin.access };
    const A = { id: admin.id, userName: admin.userName };
    const sample = { direction: 'lbp_to_usd', rate: 89500, usd_volume: 10 };
    const created = await call('POST', '/admin/rates', { ...as, body: sample });
    expect(created.statusCode).toBe(201);
    const sampleId = created.json<{ id: number }>().id;
    await expectLogged(AuditEvent.ADMIN_RATE_CREATE, `actor_user_id=${admin.id}`, {
      success: true,
      actor: A,
      target: null,
      status: 201,
      method: 'POST',
      path: '/admin/rates',
      where: (m) => m.sample_id === sampleId,
    });

    const imported = await call('POST', '/admin/rates/import', {
      ...as,
      body: [sample, { ...sample, rate: 89600 }],
    });
    expect(imported.statusCode).toBe(201);
    const imp = await expectLogged(AuditEvent.ADMIN_RATE_IMPORT, `actor_user_id=${admin.id}&success=true`, {
      success: true,
      actor: A,
      target: null,
      status: 201,
      method: 'POST',
      path: '/admin/rates/import',
    });
    expect(meta(imp)).toMatchObject({ format: 'json', imported: 2 });

    const patched = await call('PATCH', `/admin/rates/${sampleId}`, {
      ...as,
      body: { is_outlier: true, reason: 'fat finger' },
    });
    expect(patched.statusCode).toBe(200);
    await expectLogged(AuditEvent.ADMIN_RATE_OVERRIDE, `actor_user_id=${admin.id}`, {
      success: true,
      actor: A,
      target: null,
      status: 200,
      method: 'PATCH',
      path: `/admin/rates/${sampleId}`,
      where: (m) => m.sample_id === sampleId && m.reason === 'fat finger',
    });

    const official = await call('PUT', '/admin/rates/official', {
      ...as,
      body: { usd_to_lbp: 89_500, source: 'Banque du Liban' },
    });
    expect(official.statusCode).toBe(200);
    await expectLogged(AuditEvent.ADMIN_OFFICIAL_RATE_SET, `actor_user_id=${admin.id}`, {
      success: true,
      actor: A,
      target: null,
      status: 200,
      method: 'PUT',
      path: '/admin/rates/official',
      where: (m) =>
        m.official_rate_id === official.json<{ id: number }>().id && m.source === 'Banque du Liban',
    });
  });

  it('ADMIN_ALERT_DELETE and ADMIN_OFFER_CANCEL (target = the owner)', async () => {
    const u = await newUser('own');
    const A = { id: admin.id, userName: admin.userName };
    const alert = await call('POST', '/alerts', {
      token: u.access,
      body: { direction: 'lbp_to_usd', condition: 'below', threshold: 1 },
    });
    const alertId = alert.json<{ id: number }>().id;
    expect((await call('DELETE', `/admin/alerts/${alertId}`, { token: admin.access })).statusCode).toBe(200);
    await expectLogged(AuditEvent.ADMIN_ALERT_DELETE, `target_user_id=${u.id}`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'DELETE',
      path: `/admin/alerts/${alertId}`,
      where: (m) => m.alert_id === alertId,
    });

    const offer = await call('POST', '/market/offers', {
      token: u.access,
      body: { give_currency: 'USD', give_amount: 3, want_currency: 'LBP', want_amount: 268500 },
    });
    expect(offer.statusCode).toBe(201);
    const offerId = offer.json<{ id: number }>().id;
    expect(
      (await call('DELETE', `/admin/market/offers/${offerId}`, { token: admin.access })).statusCode,
    ).toBe(200);
    await expectLogged(AuditEvent.ADMIN_OFFER_CANCEL, `target_user_id=${u.id}`, {
      success: true,
      actor: A,
      target: u.id,
      status: 200,
      method: 'DELETE',
      path: `/admin/market/offers/${offerId}`,
      where: (m) => m.offer_id === offerId,
    });
  });

  it('ADMIN_ACCESS_DENIED: a user token (403), and no, malformed, forged or expired token (401)', async () => {
    const u = await newUser('deny');
    expect((await call('GET', '/admin/users', { token: u.access })).statusCode).toBe(403);
    const byUser = await expectLogged(AuditEvent.ADMIN_ACCESS_DENIED, `actor_user_id=${u.id}`, {
      success: false,
      actor: u,
      target: null,
      status: 403,
      method: 'GET',
      path: '/admin/users',
    });
    expect(meta(byUser)).toMatchObject({ code: 'FORBIDDEN_ROLE', role: 'USER' });

    const claims = decodeJwt(u.access).payload;
    const now = Math.floor(Date.now() / 1000);
    const expired = signClaims(t.config.auth.jwtSecret, { ...claims, iat: now - 3600, exp: now - 60 });
    const forged = tamperSignature(u.access);
    secrets.add(expired).add(forged);
    const target = `/admin/users/${u.id}/status`;
    const attempts: [token: string | undefined, code: string][] = [
      [undefined, 'UNAUTHORIZED'],
      ['not-a-jwt', 'INVALID_TOKEN'],
      [forged, 'INVALID_TOKEN'],
      [expired, 'TOKEN_EXPIRED'],
    ];
    for (const [token, code] of attempts) {
      const res = await call('PUT', target, { token, body: { status: 'BANNED' } });
      expect({ code, status: res.statusCode, body: res.json<{ code: string }>().code }).toEqual({
        code,
        status: 401,
        body: code,
      });
    }
    const rows = (await adminLogs(`event_type=ADMIN_ACCESS_DENIED&target_user_id=${u.id}&success=false`))
      .logs;
    expect(rows.map((r) => meta(r).code).sort()).toEqual(attempts.map(([, c]) => c).sort());
    for (const r of rows) {
      expect(r).toMatchObject({
        success: false,
        status_code: 401,
        http_method: 'PUT',
        path: target,
        ip_address: IP,
        user_agent: UA,
        actor_user_id: null,
        target_user_id: u.id,
        message: expect.any(String),
      });
      // small: the reason and which admin action was attempted, never the body or the token
      expect(meta(r)).toEqual({
        code: expect.any(String),
        attempted: AuditEvent.ADMIN_USER_STATUS_CHANGE,
        request_id: expect.any(String),
      });
      expect(r.metadata_json).not.toContain('not-a-jwt');
      expectNoSecret(r);
    }
    expect((await t.request('GET', '/whoami', { token: u.access })).json()).toMatchObject({
      status: 'ACTIVE',
    });
  });

  it('GET /admin/logs: all filters combine with paging', async () => {
    const u = await newUser('flt');
    const before = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++)
      expect(
        (await call('POST', '/login', { body: { user_name: u.userName, password: `wrong-pass-${i}` } }))
          .statusCode,
      ).toBe(401);
    const after = new Date(Date.now() + 1000).toISOString();
    const all = [
      `from=${encodeURIComponent(before)}`,
      `to=${encodeURIComponent(after)}`,
      'event_type=LOGIN_FAILURE',
      'success=false',
      `actor_user_id=${u.id}`,
      `target_user_id=${u.id}`,
      `actor_username=${u.userName}`,
    ].join('&');
    const full = await adminLogs(`${all}&limit=200`);
    expect(full.total).toBe(3);
    expect(full.logs.map((r) => r.id)).toEqual([...full.logs.map((r) => r.id)].sort((a, b) => b - a));
    const page = await adminLogs(`${all}&limit=1&offset=1`);
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.logs.map((r) => r.id)).toEqual([full.logs[1].id]);
    expect((await adminLogs(`${all}&limit=2&offset=2`)).logs.map((r) => r.id)).toEqual([full.logs[2].id]);
    // each filter can exclude on its own
    for (const q of [
      all.replace('success=false', 'success=true'),
      all.replace('event_type=LOGIN_FAILURE', 'event_type=LOGIN_SUCCESS'),
      all.replace(`actor_user_id=${u.id}`, `actor_user_id=${admin.id}`),
      all.replace(`target_user_id=${u.id}`, `target_user_id=${admin.id}`),
      all.replace(`actor_username=${u.userName}`, `actor_username=${admin.userName}`),
      all.replace(`to=${encodeURIComponent(after)}`, `to=${encodeURIComponent(before)}`),
      all.replace(`from=${encodeURIComponent(before)}`, `from=${encodeURIComponent(after)}`),
    ]) {
      expect({ q, total: (await adminLogs(q)).total }).toEqual({ q, total: 0 });
    }
    // the export takes the same filters
    const csv = await t.request('GET', `/admin/logs/export?${all}`, { token: admin.access });
    expect(csv.statusCode).toBe(200);
    expect(
      parseCsv(csv.body)
        .slice(1)
        .map((r) => Number(r[0])),
    ).toEqual(full.logs.map((r) => r.id));
  });

  describe('GET /admin/logs/export', () => {
    const exportCsv = (q = '', token: string | null = admin.access): Promise<Res> =>
      call('GET', `/admin/logs/export${q ? `?${q}` : ''}`, { token: token ?? undefined });

    it('is a CSV attachment: the JSON field names as header, the same rows as GET /admin/logs, newest first', async () => {
      const u = await newUser('csv');
      await call('PUT', '/preferences', { token: u.access, body: { default_range_hours: 10 } });
      const res = await exportCsv(`actor_user_id=${u.id}`);
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/^text\/csv/);
      expect(String(res.headers['content-disposition'])).toMatch(
        /^attachment; filename=audit_logs_\d{8}_\d{6}\.csv$/,
      );
      const [header, ...records] = parseCsv(res.body);
      expect(header).toEqual([...LOG_KEYS]);
      const json = (await adminLogs(`actor_user_id=${u.id}&limit=200`)).logs;
      expect(json.length).toBeGreaterThanOrEqual(3);
      expect(records).toEqual(json.map((r) => LOG_KEYS.map((k) => expectedCell(r[k]))));

      // the export is itself an admin action on the record
      const row = await expectLogged(AuditEvent.ADMIN_LOG_EXPORT, `actor_user_id=${admin.id}`, {
        success: true,
        actor: { id: admin.id, userName: admin.userName },
        target: null,
        status: 200,
        method: 'GET',
        path: '/admin/logs/export',
        where: (m) => (m.filter as Meta | undefined)?.actor_user_id === u.id,
      });
      expect(meta(row)).toMatchObject({ filename: expect.stringMatching(/^audit_logs_\d{8}_\d{6}\.csv$/) });
    });

    it('defuses formula injection in client-controlled cells and quotes per RFC 4180', async () => {
      const u = await newUser('fx');
      const evilUa = '=HYPERLINK("http://evil.example/x","click")';
      const res = await t.request('PUT', '/preferences', {
        token: u.access,
        body: { default_bucket: 'day' },
        headers: { 'user-agent': evilUa },
      });
      expect(res.statusCode).toBe(200);
      // an unknown user name goes into actor_username as typed
      for (const name of ['@SUM(1+1)', '-2+3,cmd', "+cmd|'/c calc'!A0"]) {
        expect(
          (await call('POST', '/login', { body: { user_name: name, password: 'whatever-1' } })).statusCode,
        ).toBe(401);
      }
      // a reason with a comma, a quote and a line break ends up in the message
      const adj = await call('POST', `/admin/users/${u.id}/wallet/adjust`, {
        token: admin.access,
        body: { currency: 'LBP', amount: 1, reason: 'line one, "two"\nline three' },
      });
      expect(adj.statusCode).toBe(200);

      const mine = await exportCsv(`actor_user_id=${u.id}&event_type=PREFERENCES_UPDATE`);
      expect(mine.body).toContain(`"'=HYPERLINK(""http://evil.example/x"",""click"")"`);
      const [, record] = parseCsv(mine.body);
      expect(record[LOG_KEYS.indexOf('user_agent')]).toBe(`'${evilUa}`);

      const failed = parseCsv((await exportCsv('event_type=LOGIN_FAILURE&success=false')).body).slice(1);
      const names = failed.map((r) => r[LOG_KEYS.indexOf('actor_username')]);
      expect(names).toEqual(expect.arrayContaining(["'@SUM(1+1)", "'-2+3,cmd", "'+cmd|'/c calc'!A0"]));
      expect((await exportCsv('event_type=LOGIN_FAILURE&success=false')).body).toContain(`"'-2+3,cmd"`);

      const adjusted = await exportCsv(`event_type=ADMIN_WALLET_ADJUST&target_user_id=${u.id}`);
      expect(adjusted.body).toContain('"LBP 1.00: line one, ""two""\nline three"');
      const [, adjRow] = parseCsv(adjusted.body);
      expect(adjRow[LOG_KEYS.indexOf('message')]).toBe('LBP 1.00: line one, "two"\nline three');
      // numeric columns stay numbers, with no quote
      expect(adjRow[LOG_KEYS.indexOf('status_code')]).toBe('200');
      expect(adjRow[LOG_KEYS.indexOf('target_user_id')]).toBe(String(u.id));
      // no record starts with a formula character
      for (const r of parseCsv(adjusted.body + mine.body))
        for (const cell of r) expect(/^[=+\-@\t\r]/.test(cell) && !/^-?\d/.test(cell)).toBe(false);
    });

    it('refuses non-admins (403) and anonymous callers (401), both audited, and paging parameters (400)', async () => {
      const u = await newUser('nx');
      expect((await exportCsv('', u.access)).statusCode).toBe(403);
      await expectLogged(AuditEvent.ADMIN_ACCESS_DENIED, `actor_user_id=${u.id}`, {
        success: false,
        actor: u,
        target: null,
        status: 403,
        method: 'GET',
        path: '/admin/logs/export',
      });
      expect((await exportCsv('', null)).statusCode).toBe(401);
      await expectLogged(AuditEvent.ADMIN_ACCESS_DENIED, 'success=false', {
        success: false,
        actor: null,
        target: null,
        status: 401,
        method: 'GET',
        path: '/admin/logs/export',
      });
      for (const q of ['limit=5', 'offset=1', 'success=maybe', 'actor_user_id=0', 'from=2021-02-30']) {
        const res = await exportCsv(q);
        expect({ q, status: res.statusCode }).toEqual({ q, status: 400 });
      }
      await expectLogged(AuditEvent.ADMIN_LOG_EXPORT, `actor_user_id=${admin.id}&success=false`, {
        success: false,
        actor: { id: admin.id, userName: admin.userName },
        target: null,
        status: 400,
        method: 'GET',
        path: '/admin/logs/export',
      });
    });

    it('streams more rows than one chunk in keyset order, without gaps or duplicates', async () => {
      const actorId = 987_654;
      const n = 2_345;
      const clock = t.app.get(Clock);
      const audit = t.app.get(AuditService);
      // the same timestamp for every row: only the id keeps the order across chunks
      const spy = jest.spyOn(clock, 'now').mockReturnValue(new Date('2020-05-05T05:05:05.005Z'));
      try {
        await t.app.get(TransactionRunner).run(async (m) => {
          for (let i = 0; i < n; i++) {
            await audit.record(
              {
                event: AuditEvent.PREFERENCES_UPDATE,
                action: 'bulk',
                success: true,
                actor: { id: actorId, userName: 'bulk.rows' },
                metadata: { i },
              },
              m,
            );
          }
        });
      } finally {
        spy.mockRestore();
      }
      const res = await exportCsv(`actor_user_id=${actorId}`);
      expect(res.statusCode).toBe(200);
      const records = parseCsv(res.body).slice(1);
      expect(records).toHaveLength(n);
      const ids = records.map((r) => Number(r[0]));
      expect(new Set(ids).size).toBe(n);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(
        records.map((r) => (JSON.parse(r[LOG_KEYS.indexOf('metadata_json')]) as { i: number }).i),
      ).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
      expect((await adminLogs(`actor_user_id=${actorId}&limit=1`)).total).toBe(n);
    });
  });

  it('no audit row anywhere holds a password or a token', async () => {
    let offset = 0;
    let checked = 0;
    for (;;) {
      const page = await adminLogs(`limit=200&offset=${offset}`);
      for (const r of page.logs) expectNoSecret(r);
      checked += page.logs.length;
      offset += 200;
      if (offset >= page.total) break;
    }
    expect(checked).toBeGreaterThan(100);
  });
});

// -----------------------------------------------------------------------------------------------
describe('coverage', () => {
  it('every audit event type (but the backup ones, see test/backups.e2e-spec.ts) was found above', () => {
    const expected = Object.values(AuditEvent).filter((e) => !COVERED_ELSEWHERE.includes(e));
    expect([...seen].sort()).toEqual([...expected].sort());
  });
});
