import { AdminBootstrapService } from '../src/auth/admin-bootstrap.service';
import { createAdmin, createUser, login } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

/** Regressions for defects found in review. */
describe('hardening', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '90000000',
      TRANSACTION_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a huge offset is a 400, not a 500', async () => {
    const u = await createUser(t);
    for (const q of ['offset=1e21', 'offset=9223372036854775808', 'offset=1000000001']) {
      const res = await t.request('GET', `/logs?${q}`, { token: u.access });
      expect({ q, status: res.statusCode }).toEqual({ q, status: 400 });
    }
    expect((await t.request('GET', '/logs?offset=1000000000', { token: u.access })).statusCode).toBe(200);
  });

  it('names that could not have been registered never match an account (no collation look-alikes)', async () => {
    const u = await createUser(t, 'alice');
    for (const name of [`${u.userName} `, ` ${u.userName}`, u.userName.replace('a', 'á')]) {
      const res = await t.request('POST', '/login', { body: { user_name: name, password: u.password } });
      expect({ name, status: res.statusCode, code: res.json().code }).toEqual({
        name,
        status: 401,
        code: 'INVALID_CREDENTIALS',
      });
    }
    expect(
      (
        await t.request('POST', '/login', {
          body: { user_name: u.userName.toUpperCase(), password: u.password },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('every character of a long password counts (bcrypt alone reads only 72 bytes)', async () => {
    const name = `carol${Date.now() % 100000}`;
    const password = `${'P'.repeat(72)}AAAA`;
    expect((await t.request('POST', '/user', { body: { user_name: name, password } })).statusCode).toBe(201);
    expect(
      (await t.request('POST', '/login', { body: { user_name: name, password: `${'P'.repeat(72)}ZZZZ` } }))
        .statusCode,
    ).toBe(401);
    expect((await t.request('POST', '/login', { body: { user_name: name, password } })).statusCode).toBe(200);
  });

  it('ids are plain positive integers: 01, 1e3 and 0x10 are 400', async () => {
    const admin = await createAdmin(t);
    for (const id of ['01', '1e3', '0x10', '%201']) {
      const res = await t.request('GET', `/admin/users/${id}/preferences`, { token: admin.access });
      expect({ id, status: res.statusCode }).toEqual({ id, status: 400 });
    }
  });

  it('a malformed URL answers in the contract error shape', async () => {
    const res = await t.request('GET', '/admin/users/%E0%A4%A/preferences');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'BAD_REQUEST', statusCode: 400 });
  });

  it('dates outside the years 1000-9999 are 400', async () => {
    const u = await createUser(t);
    const res = await t.request('GET', '/logs?from=9999-12-31T23:59:59.999-23:59', { token: u.access });
    expect(res.statusCode).toBe(400);
  });

  it('an announced oversized body is refused before it is read', async () => {
    const res = await t.request('POST', '/login', {
      raw: JSON.stringify({ user_name: 'x', password: 'y'.repeat(200_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('admin:create on an existing user ends the sessions the account had', async () => {
    const u = await createUser(t);
    await t.app.get(AdminBootstrapService).createOrPromote(u.userName, 'a-brand-new-password', 'cli');
    expect((await t.request('GET', '/whoami', { token: u.access })).statusCode).toBe(401);
    expect((await t.request('POST', '/refresh', { token: u.refresh })).statusCode).toBe(401);
    const fresh = await login(t, u.userName, 'a-brand-new-password');
    expect((await t.request('GET', '/admin/users', { token: fresh.access })).statusCode).toBe(200);
  });

  it('a user can have at most 100 active alerts and 100 watchlist items (422 after that)', async () => {
    const u = await createUser(t);
    for (let i = 0; i < 100; i++) {
      const a = await t.request('POST', '/alerts', {
        token: u.access,
        body: { direction: 'usd_to_lbp', condition: 'above', threshold: 100000 + i },
      });
      expect(a.statusCode).toBe(201);
      const w = await t.request('POST', '/watchlist', {
        token: u.access,
        body: { item_type: 'threshold', direction: 'usd_to_lbp', condition: 'above', threshold: 100000 + i },
      });
      expect(w.statusCode).toBe(201);
    }
    const alert = await t.request('POST', '/alerts', {
      token: u.access,
      body: { direction: 'usd_to_lbp', condition: 'above', threshold: 1 },
    });
    expect(alert.statusCode).toBe(422);
    expect(alert.json().code).toBe('ALERT_LIMIT_REACHED');
    const item = await t.request('POST', '/watchlist', {
      token: u.access,
      body: { item_type: 'direction', direction: 'lbp_to_usd' },
    });
    expect(item.statusCode).toBe(422);
    expect(item.json().code).toBe('WATCHLIST_LIMIT_REACHED');
    // another user is not affected
    const v = await createUser(t);
    expect(
      (
        await t.request('POST', '/alerts', {
          token: v.access,
          body: { direction: 'usd_to_lbp', condition: 'above', threshold: 1 },
        })
      ).statusCode,
    ).toBe(201);
  });

  it('the ledger check stays ok while transactions commit around it', async () => {
    const admin = await createAdmin(t);
    const users = await Promise.all(Array.from({ length: 4 }, () => createUser(t)));
    const traffic = Promise.all(
      users.flatMap((u) =>
        Array.from({ length: 10 }, () =>
          t.request('POST', '/transaction', {
            token: u.access,
            body: { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true },
          }),
        ),
      ),
    );
    const checks = Promise.all(
      Array.from({ length: 15 }, async () =>
        (await t.request('GET', '/admin/ledger/verify', { token: admin.access })).json(),
      ),
    );
    const [, reports] = await Promise.all([traffic, checks]);
    for (const r of reports) expect(r).toMatchObject({ ok: true, mismatches: [] });
  });
});
