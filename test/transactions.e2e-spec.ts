import { DataSource } from 'typeorm';
import { TransactionEntity } from '../src/transactions/transaction.entity';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

interface TxBody {
  message: string;
  id: number;
  usd_amount: number;
  lbp_amount: number;
  usd_to_lbp: boolean;
  rate: number;
  created_at: string;
}

describe('POST /transaction and the transaction lists', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '90000000',
      TRANSACTION_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
    });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (u: TestUser, body: Record<string, unknown>, key?: string): Promise<Res> =>
    t.request('POST', '/transaction', {
      token: u.access,
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });

  const verify = async () => (await t.request('GET', '/admin/ledger/verify', { token: admin.access })).json();

  it('records a sale of USD: 201 with the contract body, a sample, no wallet money moved', async () => {
    const u = await createUser(t);
    const before = (await t.request('GET', '/wallet', { token: u.access })).json();
    const res = await post(u, { usd_amount: 100, lbp_amount: 8950000, usd_to_lbp: true });
    expect(res.statusCode).toBe(201);
    const b = res.json<TxBody>();
    expect(b).toEqual({
      message: 'Transaction added successfully',
      id: expect.any(Number),
      usd_amount: 100,
      lbp_amount: 8950000,
      usd_to_lbp: true,
      rate: 89500,
      created_at: expect.stringMatching(/Z$/),
    });
    // a record: the wallet and the ledger are untouched
    expect((await t.request('GET', '/wallet', { token: u.access })).json()).toEqual(before);
    const ledger = await t.request('GET', '/wallet/ledger', { token: u.access });
    expect(ledger.json().map((e: { kind: string }) => e.kind)).toEqual([
      'STARTING_BALANCE',
      'STARTING_BALANCE',
    ]);
    const samples: { source: string; user_id: unknown; transaction_id: unknown }[] = await t.app
      .get(DataSource)
      .query('SELECT source, user_id, transaction_id FROM rate_samples WHERE transaction_id = ?', [b.id]);
    expect(samples.map((x) => [x.source, Number(x.user_id)])).toEqual([['transaction', u.id]]);
    expect((await verify()).ok).toBe(true);
  });

  it('records a purchase of USD', async () => {
    const u = await createUser(t);
    const res = await post(u, { usd_amount: 10.5, lbp_amount: 945000.25, usd_to_lbp: false });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ usd_to_lbp: false, rate: 90000.02381 });
    expect(res.json()).not.toHaveProperty('usd_balance');
  });

  it.each([
    [{ usd_amount: 0, lbp_amount: 1, usd_to_lbp: true }, 'usd_amount'],
    [{ usd_amount: -5, lbp_amount: 1, usd_to_lbp: true }, 'usd_amount'],
    [{ usd_amount: 1.001, lbp_amount: 1, usd_to_lbp: true }, 'usd_amount'],
    [{ usd_amount: 1e-7, lbp_amount: 1, usd_to_lbp: true }, 'usd_amount'],
    [{ usd_amount: 1, lbp_amount: 1e21, usd_to_lbp: true }, 'lbp_amount'],
    [{ usd_amount: 1, lbp_amount: 1e12 + 1, usd_to_lbp: true }, 'lbp_amount'],
    [{ usd_amount: '1', lbp_amount: 1, usd_to_lbp: true }, 'usd_amount'],
    [{ usd_amount: 1, lbp_amount: 1, usd_to_lbp: 'yes' }, 'usd_to_lbp'],
    [{ usd_amount: 1, lbp_amount: 1 }, 'usd_to_lbp'],
    [{ usd_amount: 1, lbp_amount: 1, usd_to_lbp: true, rate: 5 }, 'rate'],
  ])('400 for %p naming %s', async (body, field) => {
    const u = await createUser(t);
    const res = await post(u, body);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ details: { field: string }[] }>().details.map((d) => d.field)).toContain(field);
  });

  it('lists own transactions newest first with filters and X-Total-Count; GET /transaction is the same', async () => {
    const u = await createUser(t);
    const other = await createUser(t);
    await post(other, { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true });
    const a = (await post(u, { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true })).json<TxBody>();
    const b = (await post(u, { usd_amount: 2, lbp_amount: 179000, usd_to_lbp: false })).json<TxBody>();
    const all = await t.request('GET', '/transactions', { token: u.access });
    expect(all.headers['x-total-count']).toBe('2');
    expect(all.json().map((x: { id: number }) => x.id)).toEqual([b.id, a.id]);
    expect(all.json()[0]).toEqual({
      id: b.id,
      usd_amount: 2,
      lbp_amount: 179000,
      usd_to_lbp: false,
      rate: 89500,
      created_at: b.created_at,
    });
    const legacy = await t.request('GET', '/transaction', { token: u.access });
    expect(legacy.body).toBe(all.body);
    const sells = await t.request('GET', '/transactions?direction=usd_to_lbp', { token: u.access });
    expect(sells.json().map((x: { id: number }) => x.id)).toEqual([a.id]);
    const paged = await t.request('GET', '/transactions?limit=1&offset=1', { token: u.access });
    expect(paged.json().map((x: { id: number }) => x.id)).toEqual([a.id]);
    expect(paged.headers['x-total-count']).toBe('2');
    const future = await t.request('GET', '/transactions?from=2999-01-01', { token: u.access });
    expect(future.json()).toEqual([]);
    const day = a.created_at.slice(0, 10);
    const today = await t.request('GET', `/transactions?from=${day}&to=${day}`, { token: u.access });
    expect(today.json()).toHaveLength(2);
    expect((await t.request('GET', '/transactions?direction=sideways', { token: u.access })).statusCode).toBe(
      400,
    );
    expect(
      (await t.request('GET', '/transactions?from=2026-02-01&to=2026-01-01', { token: u.access })).statusCode,
    ).toBe(400);
  });

  it('exports CSV with the exact header, file name and rows', async () => {
    const u = await createUser(t);
    const a = (await post(u, { usd_amount: 3.1, lbp_amount: 277450, usd_to_lbp: true })).json<TxBody>();
    const b = (await post(u, { usd_amount: 0.5, lbp_amount: 44800, usd_to_lbp: false })).json<TxBody>();
    const res = await t.request('GET', '/transactions/export', { token: u.access });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(
      new RegExp(`^attachment; filename=transactions_user${u.id}_\\d{8}_\\d{6}\\.csv$`),
    );
    expect(res.body).toBe(
      'id,usd_amount,lbp_amount,usd_to_lbp,direction,rate,created_at\n' +
        `${b.id},0.50,44800.00,false,lbp_to_usd,89600,${b.created_at}\n` +
        `${a.id},3.10,277450.00,true,usd_to_lbp,89500,${a.created_at}\n`,
    );
    const filtered = await t.request('GET', '/transactions/export?direction=usd_to_lbp', { token: u.access });
    expect(filtered.body.trim().split('\n')).toHaveLength(2);
  });

  it('exports more rows than one chunk without losing or repeating any', async () => {
    const u = await createUser(t);
    const ds = t.app.get(DataSource);
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      userId: u.id,
      usdAmount: BigInt(100 + i),
      lbpAmount: 8950000n,
      usdToLbp: true,
      rate: 89500,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    }));
    for (let i = 0; i < rows.length; i += 250) {
      await ds
        .createQueryBuilder()
        .insert()
        .into(TransactionEntity)
        .values(rows.slice(i, i + 250))
        .execute();
    }
    const res = await t.request('GET', '/transactions/export', { token: u.access });
    const lines = res.body.trim().split('\n').slice(1);
    expect(lines).toHaveLength(2500);
    expect(new Set(lines.map((l) => l.split(',')[0])).size).toBe(2500);
    // a date range (the dashboard's datetime-local form): the export and the list filter the same rows
    const range = 'from=2026-01-01T00:10&to=2026-01-01T00:11';
    const ranged = await t.request('GET', `/transactions/export?${range}`, { token: u.access });
    const exported = ranged.body
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[0]));
    const listed = await t.request('GET', `/transactions?${range}&limit=200`, { token: u.access });
    expect(exported.length).toBeGreaterThan(0);
    expect(exported.length).toBeLessThan(200);
    expect(exported).toEqual(listed.json<{ id: number }[]>().map((x) => x.id));
    expect(listed.headers['x-total-count']).toBe(String(exported.length));
  });

  it('an Idempotency-Key replayed 20 times at once acts once with identical responses; another body is 422', async () => {
    const u = await createUser(t);
    const body = { usd_amount: 10, lbp_amount: 895000, usd_to_lbp: true };
    const res = await Promise.all(Array.from({ length: 20 }, () => post(u, body, 'same-key-1')));
    expect(res.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    expect(new Set(res.map((r) => r.body)).size).toBe(1);
    const list = await t.request('GET', '/transactions', { token: u.access });
    expect(list.json()).toHaveLength(1);
    // a replay is not a record: the account's counter (a full page of one takes its total from it) says 1
    expect(
      (await t.request('GET', '/transactions?limit=1', { token: u.access })).headers['x-total-count'],
    ).toBe('1');
    const other = await post(u, { ...body, usd_amount: 11 }, 'same-key-1');
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    // keys are per user: another user may use the same key string
    const v = await createUser(t);
    expect((await post(v, body, 'same-key-1')).statusCode).toBe(201);
  });

  it('50 simultaneous records from one user: all stored once, no money moved, the ledger stays whole', async () => {
    const u = await createUser(t);
    const res = await Promise.all(
      Array.from({ length: 50 }, () => post(u, { usd_amount: 100, lbp_amount: 8950000, usd_to_lbp: true })),
    );
    expect(res.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    expect(new Set(res.map((r) => r.json<TxBody>().id)).size).toBe(50);
    expect(
      (await t.request('GET', '/transactions?limit=200', { token: u.access })).headers['x-total-count'],
    ).toBe('50');
    // a full page takes its total from the account's counter, kept in each record's transaction:
    // 50 parallel records counted 50 times, no update lost
    expect(
      (await t.request('GET', '/transactions?limit=10', { token: u.access })).headers['x-total-count'],
    ).toBe('50');
    expect((await t.request('GET', '/wallet', { token: u.access })).json()).toMatchObject({
      usd_balance: 1000,
      lbp_balance: 90000000,
    });
    expect((await verify()).ok).toBe(true);
  });

  it('requires a token', async () => {
    expect(
      (await t.request('POST', '/transaction', { body: { usd_amount: 1, lbp_amount: 1, usd_to_lbp: true } }))
        .statusCode,
    ).toBe(401);
    expect((await t.request('GET', '/transactions')).statusCode).toBe(401);
    expect((await t.request('GET', '/transactions/export')).statusCode).toBe(401);
  });
});

describe('the outlier guard on POST /transaction', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      TRANSACTION_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
      OUTLIER_MIN_SAMPLES: '5',
    });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('flags nothing until the other contributors make a baseline; then a 3x rate is refused and audited', async () => {
    const [a, b, c, u] = [await createUser(t), await createUser(t), await createUser(t), await createUser(t)];
    const post = (who: TestUser, usd: number, lbp: number) =>
      t.request('POST', '/transaction', {
        token: who.access,
        body: { usd_amount: usd, lbp_amount: lbp, usd_to_lbp: true },
      });
    // two contributors (fewer than RATE_MIN_CONTRIBUTORS = 3): even a wild rate is accepted
    expect((await post(a, 10, 890000)).statusCode).toBe(201);
    expect((await post(b, 10, 895000)).statusCode).toBe(201);
    expect((await post(u, 10, 5000000)).statusCode).toBe(201);
    // three contributors with 5 samples between them: now a baseline
    expect((await post(c, 10, 900000)).statusCode).toBe(201);
    expect((await post(a, 10, 890000)).statusCode).toBe(201);
    expect((await post(b, 10, 895000)).statusCode).toBe(201);
    const outlier = await post(u, 10, 2685000);
    expect(outlier.statusCode).toBe(422);
    const body = outlier.json<{ code: string; error: string; details: { field: string; value: number }[] }>();
    expect(body.code).toBe('RATE_OUTLIER');
    const detail = Object.fromEntries(body.details.map((d) => [d.field, d.value]));
    // u's own earlier sample (the 500,000 one) is not in u's baseline: a, b, c count once each
    expect(detail.baseline_median).toBe(89500);
    expect(detail.baseline_contributors).toBe(3);
    expect(detail.baseline_samples).toBe(5);
    expect(detail.rate).toBe(268500);
    expect(detail.deviation_percent).toBeGreaterThan(190);
    expect((await t.request('GET', '/transactions', { token: u.access })).json()).toHaveLength(1);
    const logs = await t.request(
      'GET',
      `/admin/logs?event_type=TRANSACTION_CREATE&success=false&actor_user_id=${u.id}`,
      {
        token: admin.access,
      },
    );
    expect(logs.json().total).toBe(1);
    expect(JSON.parse(logs.json().logs[0].metadata_json)).toMatchObject({ code: 'RATE_OUTLIER' });
    // a normal rate still goes through
    expect((await post(u, 10, 901000)).statusCode).toBe(201);
  });
});

describe('a record needs no balance (default configuration)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('a new account with nothing records any amount with 201, and its wallet stays at zero', async () => {
    const u = await createUser(t);
    const zero = { usd_balance: 0, lbp_balance: 0, usd_held: 0, lbp_held: 0 };
    expect((await t.request('GET', '/wallet', { token: u.access })).json()).toEqual(zero);
    const res = await t.request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: 1000000, lbp_amount: 89500000000, usd_to_lbp: true },
    });
    expect(res.statusCode).toBe(201);
    expect((await t.request('GET', '/wallet', { token: u.access })).json()).toEqual(zero);
  });
});

describe('per-user rate limit on POST /transaction', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ TRANSACTION_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the 4th within the window is 429 with Retry-After, per user', async () => {
    const u = await createUser(t);
    const v = await createUser(t);
    const body = { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true };
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await t.request('POST', '/transaction', { token: u.access, body })).statusCode);
    expect(codes).toEqual([201, 201, 201, 429]);
    const last = await t.request('POST', '/transaction', { token: u.access, body });
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.request('POST', '/transaction', { token: v.access, body })).statusCode).toBe(201);
  });
});
