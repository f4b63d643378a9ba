import { DataSource } from 'typeorm';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(60_000);

describe('wallet, ledger and admin adjustments', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ STARTING_BALANCE_USD: '100', STARTING_BALANCE_LBP: '5000000.50' });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const adjust = (userId: number, body: Record<string, unknown>, token = admin.access, key?: string) =>
    t.request('POST', `/admin/users/${userId}/wallet/adjust`, {
      token,
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });

  const verify = async () => {
    const res = await t.request('GET', '/admin/ledger/verify', { token: admin.access });
    expect(res.statusCode).toBe(200);
    return res.json<{ ok: boolean; currencies: Record<string, string>; mismatches: unknown[] }>();
  };

  it('books the starting balances from funding at registration', async () => {
    const u = await createUser(t);
    const wallet = await t.request('GET', '/wallet', { token: u.access });
    expect(wallet.json()).toEqual({ usd_balance: 100, lbp_balance: 5000000.5, usd_held: 0, lbp_held: 0 });
    const who = await t.request('GET', '/whoami', { token: u.access });
    expect(who.json()).toMatchObject({ id: u.id, usd_balance: 100, lbp_balance: 5000000.5 });
    const ledger = await t.request('GET', '/wallet/ledger', { token: u.access });
    expect(ledger.statusCode).toBe(200);
    expect(ledger.headers['x-total-count']).toBe('2');
    const rows = ledger.json<{ currency: string; amount: number; balance_after: number; kind: string }[]>();
    expect(rows.map((r) => [r.currency, r.amount, r.balance_after, r.kind]).sort()).toEqual(
      [
        ['LBP', 5000000.5, 5000000.5, 'STARTING_BALANCE'],
        ['USD', 100, 100, 'STARTING_BALANCE'],
      ].sort(),
    );
    expect((await verify()).ok).toBe(true);
  });

  it('an admin credit and debit move the balance exactly and are ledger-booked and audited', async () => {
    const u = await createUser(t);
    const credit = await adjust(u.id, { currency: 'USD', amount: 0.1, reason: 'goodwill' });
    expect(credit.statusCode).toBe(200);
    expect(credit.json()).toMatchObject({
      user_id: u.id,
      usd_balance: 100.1,
      lbp_balance: 5000000.5,
      usd_held: 0,
    });
    const debit = await adjust(u.id, { currency: 'USD', amount: -0.3, reason: 'fee correction' });
    expect(debit.json()).toMatchObject({ usd_balance: 99.8 });
    const ledger = await t.request('GET', '/wallet/ledger?limit=2', { token: u.access });
    expect(ledger.json()).toEqual([
      expect.objectContaining({
        currency: 'USD',
        amount: -0.3,
        balance_after: 99.8,
        kind: 'ADMIN_ADJUSTMENT',
      }),
      expect.objectContaining({
        currency: 'USD',
        amount: 0.1,
        balance_after: 100.1,
        kind: 'ADMIN_ADJUSTMENT',
      }),
    ]);
    const logs = await t.request('GET', `/admin/logs?event_type=ADMIN_WALLET_ADJUST&target_user_id=${u.id}`, {
      token: admin.access,
    });
    expect(logs.json().total).toBe(2);
    expect(logs.json().logs[0]).toMatchObject({ success: true, actor_user_id: admin.id });
    expect(JSON.parse(logs.json().logs[0].metadata_json)).toMatchObject({
      currency: 'USD',
      amount: '-0.30',
      reason: 'fee correction',
    });
    expect((await verify()).ok).toBe(true);
  });

  it('never takes a balance below zero: 422 INSUFFICIENT_BALANCE and nothing changes', async () => {
    const u = await createUser(t);
    const res = await adjust(u.id, { currency: 'USD', amount: -100.01, reason: 'too much' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'INSUFFICIENT_BALANCE', statusCode: 422 });
    const wallet = await t.request('GET', '/wallet', { token: u.access });
    expect(wallet.json().usd_balance).toBe(100);
    const ledger = await t.request('GET', '/wallet/ledger', { token: u.access });
    expect(ledger.headers['x-total-count']).toBe('2');
    const exact = await adjust(u.id, { currency: 'USD', amount: -100, reason: 'to zero' });
    expect(exact.json().usd_balance).toBe(0);
  });

  it.each([
    [{ currency: 'USD', amount: 0, reason: 'zero' }, 'amount'],
    [{ currency: 'USD', amount: 1.234, reason: 'three decimals' }, 'amount'],
    [{ currency: 'USD', amount: 1e12 + 1, reason: 'too big' }, 'amount'],
    [{ currency: 'USD', amount: '5', reason: 'string' }, 'amount'],
    [{ currency: 'EUR', amount: 5, reason: 'currency' }, 'currency'],
    [{ currency: 'USD', amount: 5 }, 'reason'],
    [{ currency: 'USD', amount: 5, reason: 'x', usd_balance: 1 }, 'usd_balance'],
  ])('refuses a bad adjustment %p with 400 naming the field', async (body, field) => {
    const u = await createUser(t);
    const res = await adjust(u.id, body);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ details: { field: string }[] }>().details.map((d) => d.field)).toContain(field);
  });

  it('unknown user → 404; user → 403; non-fresh admin → 403 FRESH_TOKEN_REQUIRED', async () => {
    expect((await adjust(999999, { currency: 'USD', amount: 1, reason: 'ghost' })).statusCode).toBe(404);
    const u = await createUser(t);
    expect((await adjust(u.id, { currency: 'USD', amount: 1, reason: 'self' }, u.access)).statusCode).toBe(
      403,
    );
    const refreshed = await t.request('POST', '/refresh', { token: admin.refresh });
    const stale = refreshed.json().access_token as string;
    const res = await adjust(u.id, { currency: 'USD', amount: 1, reason: 'stale' }, stale);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FRESH_TOKEN_REQUIRED');
    expect((await t.request('GET', '/admin/ledger/verify', { token: u.access })).statusCode).toBe(403);
  });

  it('an Idempotency-Key replayed 20 times at once acts once, with identical responses', async () => {
    const u = await createUser(t);
    const key = `adj-${u.id}-${Date.now()}`;
    const body = { currency: 'LBP', amount: 150000, reason: 'replayed' };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => adjust(u.id, body, admin.access, key)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    const wallet = await t.request('GET', '/wallet', { token: u.access });
    expect(wallet.json().lbp_balance).toBe(5150000.5);
    const reused = await adjust(u.id, { ...body, amount: 1 }, admin.access, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await verify()).ok).toBe(true);
  });

  it('a refused request releases its key, so a corrected retry with the same key can act', async () => {
    const u = await createUser(t);
    const key = `retry-${u.id}`;
    const short = await adjust(u.id, { currency: 'USD', amount: -500, reason: 'short' }, admin.access, key);
    expect(short.statusCode).toBe(422);
    await adjust(u.id, { currency: 'USD', amount: 400, reason: 'top up' });
    const again = await adjust(u.id, { currency: 'USD', amount: -500, reason: 'short' }, admin.access, key);
    expect(again.statusCode).toBe(200);
    expect(again.json().usd_balance).toBe(0);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const u = await createUser(t);
    const res = await adjust(
      u.id,
      { currency: 'USD', amount: 1, reason: 'bad key' },
      admin.access,
      'x'.repeat(256),
    );
    expect(res.statusCode).toBe(400);
  });

  it('a credit beyond the largest balance (7e15 minor units) is refused with 422 BALANCE_LIMIT, not a 500', async () => {
    const u = await createUser(t);
    const ds = t.app.get(DataSource);
    const near = '6999999999999000';
    await ds.query(`UPDATE wallets SET lbp_available = ${near} WHERE user_id = ?`, [u.id]);
    try {
      const res = await adjust(u.id, { currency: 'LBP', amount: 100, reason: 'over the top' });
      expect(res.statusCode).toBe(422);
      expect(res.json().code).toBe('BALANCE_LIMIT');
      const ok = await adjust(u.id, { currency: 'LBP', amount: 10, reason: 'just fits' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().lbp_balance).toBe(70000000000000);
    } finally {
      await ds.query('UPDATE wallets SET lbp_available = 500000050 WHERE user_id = ?', [u.id]);
      const journals: { journal_id: string }[] = await ds.query(
        "SELECT DISTINCT journal_id FROM ledger_entries WHERE user_id = ? AND kind = 'ADMIN_ADJUSTMENT'",
        [u.id],
      );
      for (const j of journals)
        await ds.query('DELETE FROM ledger_entries WHERE journal_id = ?', [j.journal_id]);
    }
  });

  it('verify reports a balance that no longer matches its ledger', async () => {
    const u = await createUser(t);
    const ds = t.app.get(DataSource);
    await ds.query('UPDATE wallets SET usd_available = usd_available + 1 WHERE user_id = ?', [u.id]);
    try {
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.mismatches).toContainEqual(
        expect.objectContaining({
          user_id: u.id,
          check: 'user_equals_ledger',
          currency: 'USD',
          expected: '100.00',
          actual: '100.01',
        }),
      );
    } finally {
      await ds.query('UPDATE wallets SET usd_available = usd_available - 1 WHERE user_id = ?', [u.id]);
    }
    expect((await verify()).ok).toBe(true);
  });
});
