import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

describe('P2P marketplace', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '90000000',
      OFFER_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
    });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  const offer = (u: TestUser, body: Record<string, unknown>, key?: string): Promise<Res> =>
    t.request('POST', '/market/offers', {
      token: u.access,
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
  const accept = (u: TestUser, id: number, body?: Record<string, unknown>, key?: string): Promise<Res> =>
    t.request('POST', `/market/offers/${id}/accept`, {
      token: u.access,
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
  const wallet = async (u: TestUser) => (await t.request('GET', '/wallet', { token: u.access })).json();
  const verify = async () => (await t.request('GET', '/admin/ledger/verify', { token: admin.access })).json();
  const usdOffer = { give_currency: 'USD', give_amount: 100, want_currency: 'LBP', want_amount: 8950000 };

  it('creates an offer: 201, escrow moved from available to held, ledger verify ok', async () => {
    const maker = await createUser(t);
    const res = await offer(maker, { ...usdOffer, expires_in_hours: 24 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: expect.any(Number),
      status: 'OPEN',
      creator_user_id: maker.id,
      give_currency: 'USD',
      give_amount: 100,
      want_currency: 'LBP',
      want_amount: 8950000,
      remaining_give_amount: 100,
      rate: 89500,
      min_fill_amount: null,
      expires_at: expect.stringMatching(/Z$/),
      usd_balance: 900,
      usd_held: 100,
    });
    expect(await wallet(maker)).toEqual({
      usd_balance: 900,
      lbp_balance: 90000000,
      usd_held: 100,
      lbp_held: 0,
    });
    expect(await verify()).toMatchObject({ ok: true, mismatches: [] });
  });

  it('takes a whole offer: both sides settle, trade and notifications recorded', async () => {
    const maker = await createUser(t);
    const taker = await createUser(t);
    const id = (await offer(maker, usdOffer)).json<{ id: number }>().id;
    const res = await accept(taker, id);
    expect(res.statusCode).toBe(201);
    const b = res.json();
    expect(b).toMatchObject({
      message: 'Offer accepted',
      trade_id: expect.any(Number),
      trade: {
        offer_id: id,
        buyer_user_id: taker.id,
        seller_user_id: maker.id,
        usd_amount: 100,
        lbp_amount: 8950000,
        rate: 89500,
        side: 'buyer',
      },
      offer: { id, status: 'COMPLETED', remaining_give_amount: 0 },
      usd_balance: 1100,
      lbp_balance: 81050000,
    });
    expect(await wallet(maker)).toEqual({
      usd_balance: 900,
      lbp_balance: 98950000,
      usd_held: 0,
      lbp_held: 0,
    });
    const again = await accept(await createUser(t), id);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('OFFER_NOT_OPEN');
    const trades = await t.request('GET', '/market/trades', { token: maker.access });
    expect(trades.json()).toEqual([expect.objectContaining({ id: b.trade_id, side: 'seller' })]);
    const notes = (await t.request('GET', '/notifications', { token: maker.access })).json();
    expect(notes).toEqual([
      expect.objectContaining({ event_type: 'OFFER_ACCEPTED', ref_type: 'trade', ref_id: b.trade_id }),
    ]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('partial takes, cancel refund, own offer 422, empty JSON body accepted', async () => {
    const maker = await createUser(t);
    const taker = await createUser(t);
    const id = (
      await offer(maker, {
        give_currency: 'LBP',
        give_amount: 9000000,
        want_currency: 'USD',
        want_amount: 100,
        min_fill_amount: 900000,
      })
    ).json<{ id: number }>().id;
    expect((await accept(maker, id)).json().code).toBe('OWN_OFFER');
    const small = await accept(taker, id, { amount: 100 });
    expect(small.statusCode).toBe(422);
    expect(small.json().code).toBe('FILL_TOO_SMALL');
    const part = await t.request('POST', `/market/offers/${id}/accept`, {
      token: taker.access,
      raw: JSON.stringify({ amount: 900000 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(part.statusCode).toBe(201);
    expect(part.json().trade).toMatchObject({ usd_amount: 10, lbp_amount: 900000, side: 'seller' });
    const cancel = await t.request('DELETE', `/market/offers/${id}`, { token: maker.access });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({
      message: 'Offer cancelled',
      refunded_amount: 8100000,
      currency: 'LBP',
    });
    expect(await wallet(maker)).toEqual({
      usd_balance: 1010,
      lbp_balance: 81000000 + 8100000,
      usd_held: 0,
      lbp_held: 0,
    });
    expect(await verify()).toMatchObject({ ok: true });
    const id2 = (await offer(maker, usdOffer)).json<{ id: number }>().id;
    const empty = await t.request('POST', `/market/offers/${id2}/accept`, {
      token: taker.access,
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.statusCode).toBe(201);
  });

  it('null optional fields mean absent: a whole-only offer without expiry, a take of the whole remainder', async () => {
    const maker = await createUser(t);
    const res = await offer(maker, { ...usdOffer, min_fill_amount: null, expires_in_hours: null });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ min_fill_amount: null, expires_at: null, status: 'OPEN' });
    const take = await accept(await createUser(t), res.json<{ id: number }>().id, { amount: null });
    expect(take.statusCode).toBe(201);
    expect(take.json().trade.usd_amount).toBe(100);
    const prefs = await t.request('PUT', '/preferences', {
      token: maker.access,
      body: { default_range_hours: null },
    });
    expect(prefs.statusCode).toBeLessThan(500);
  });

  it('validates the body: 400 with details, nothing escrowed', async () => {
    const u = await createUser(t);
    const bad: [Record<string, unknown>, string][] = [
      [{ ...usdOffer, want_currency: 'USD' }, 'want_currency'],
      [{ ...usdOffer, give_currency: 'EUR' }, 'give_currency'],
      [{ ...usdOffer, give_amount: 0 }, 'give_amount'],
      [{ ...usdOffer, give_amount: 1.005 }, 'give_amount'],
      [{ ...usdOffer, want_amount: 1e13 }, 'want_amount'],
      [{ ...usdOffer, want_amount: '100' }, 'want_amount'],
      [{ ...usdOffer, min_fill_amount: 100.01 }, 'min_fill_amount'],
      [{ ...usdOffer, expires_in_hours: 0 }, 'expires_in_hours'],
      [{ ...usdOffer, expires_in_hours: 721 }, 'expires_in_hours'],
      [{ ...usdOffer, expires_in_hours: 1.5 }, 'expires_in_hours'],
      [{ ...usdOffer, status: 'COMPLETED' }, 'status'],
      [{ give_currency: 'USD', give_amount: 1 }, 'want_currency'],
    ];
    for (const [body, field] of bad) {
      const res = await offer(u, body);
      expect([res.statusCode, res.json().code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(res.json().details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const badAccept = await accept(u, 1, { amount: -5 });
    expect(badAccept.statusCode).toBe(400);
    expect((await accept(u, 1, { amount: 1, extra: true })).statusCode).toBe(400);
    expect((await t.request('GET', '/market/offers/abc', { token: u.access })).statusCode).toBe(400);
    expect((await t.request('GET', '/market/offers?sort=price', { token: u.access })).statusCode).toBe(400);
    expect((await t.request('GET', '/market/offers?include_mine=yes', { token: u.access })).statusCode).toBe(
      400,
    );
    expect(await wallet(u)).toEqual({ usd_balance: 1000, lbp_balance: 90000000, usd_held: 0, lbp_held: 0 });
  });

  it('refuses a short maker or taker with 422 INSUFFICIENT_BALANCE and moves nothing', async () => {
    const maker = await createUser(t);
    const short = await offer(maker, { ...usdOffer, give_amount: 1000.01, want_amount: 89500895 });
    expect([short.statusCode, short.json().code]).toEqual([422, 'INSUFFICIENT_BALANCE']);
    expect((await t.request('GET', '/market/offers/mine', { token: maker.access })).json()).toEqual([]);
    const big = await offer(maker, {
      give_currency: 'USD',
      give_amount: 1000,
      want_currency: 'LBP',
      want_amount: 89500000,
    });
    const id = big.json<{ id: number }>().id;
    const taker = await createUser(t); // holds 90,000,000 LBP: enough
    const poor = await createUser(t);
    await t.request('POST', `/admin/users/${poor.id}/wallet/adjust`, {
      token: admin.access,
      body: { currency: 'LBP', amount: -89000000, reason: 'test: make poor' },
    });
    const res = await accept(poor, id);
    expect([res.statusCode, res.json().code]).toEqual([422, 'INSUFFICIENT_BALANCE']);
    expect((await t.request('GET', `/market/offers/${id}`, { token: maker.access })).json()).toMatchObject({
      status: 'OPEN',
      remaining_give_amount: 1000,
    });
    expect(await wallet(poor)).toEqual({ usd_balance: 1000, lbp_balance: 1000000, usd_held: 0, lbp_held: 0 });
    expect((await accept(taker, id)).statusCode).toBe(201);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('partial-take rules: whole-only offers, remainder too small, rounding goes against the taker', async () => {
    const maker = await createUser(t);
    const taker = await createUser(t);
    const whole = (await offer(maker, usdOffer)).json<{ id: number }>().id;
    const part = await accept(taker, whole, { amount: 50 });
    expect([part.statusCode, part.json().code]).toEqual([422, 'PARTIAL_FILL_NOT_ALLOWED']);
    const more = await accept(taker, whole, { amount: 100.01 });
    expect([more.statusCode, more.json().code]).toEqual([409, 'OFFER_REMAINDER_TOO_SMALL']);
    // 1,000,000 LBP for 11.17 USD: takes of 300,000 LBP price at 3.351 USD, rounded up to 3.36 (the
    // taker chose the amount); the last 100,000 at 1.117, rounded up to 1.12
    const odd = (
      await offer(maker, {
        give_currency: 'LBP',
        give_amount: 1000000,
        want_currency: 'USD',
        want_amount: 11.17,
        min_fill_amount: 300000,
      })
    ).json<{ id: number }>().id;
    const paid: number[] = [];
    for (const amount of [300000, 300000, 300000]) {
      const r = await accept(taker, odd, { amount });
      expect(r.statusCode).toBe(201);
      paid.push(r.json().trade.usd_amount);
    }
    const tooSmallLeft = await accept(taker, odd, { amount: 100000 });
    expect(tooSmallLeft.statusCode).toBe(201); // the whole remainder, below min_fill, is allowed
    paid.push(tooSmallLeft.json().trade.usd_amount);
    expect(paid).toEqual([3.36, 3.36, 3.36, 1.12]);
    expect(Math.round(paid.reduce((a, b) => a + b, 0) * 100)).toBe(1120);
    expect(tooSmallLeft.json().offer).toMatchObject({
      status: 'COMPLETED',
      remaining_give_amount: 0,
      remaining_want_amount: 0,
    });
    const mine = (await t.request('GET', `/market/offers/${odd}`, { token: maker.access })).json();
    expect(mine).toMatchObject({
      filled_give_amount: 1000000,
      received_want_amount: 11.2,
      refunded_amount: 0,
    });
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('BOLA: others cannot cancel, see private fields, or see closed offers', async () => {
    const maker = await createUser(t);
    const other = await createUser(t);
    const id = (await offer(maker, usdOffer)).json<{ id: number }>().id;
    const cancel = await t.request('DELETE', `/market/offers/${id}`, { token: other.access });
    expect([cancel.statusCode, cancel.json().code]).toEqual([404, 'OFFER_NOT_FOUND']);
    const seen = (await t.request('GET', `/market/offers/${id}`, { token: other.access })).json();
    expect(seen).toMatchObject({ id, status: 'OPEN', creator_user_id: maker.id });
    for (const k of ['filled_give_amount', 'received_want_amount', 'refunded_amount', 'closed_at'])
      expect(seen).not.toHaveProperty(k);
    const own = (await t.request('GET', `/market/offers/${id}`, { token: maker.access })).json();
    expect(own).toHaveProperty('refunded_amount', 0);
    expect((await t.request('GET', '/market/offers/mine', { token: other.access })).json()).toEqual([]);
    expect((await t.request('DELETE', `/market/offers/${id}`, { token: maker.access })).statusCode).toBe(200);
    const again = await t.request('DELETE', `/market/offers/${id}`, { token: maker.access });
    expect([again.statusCode, again.json().code]).toEqual([409, 'OFFER_NOT_OPEN']);
    expect((await t.request('GET', `/market/offers/${id}`, { token: other.access })).statusCode).toBe(404);
    expect((await t.request('GET', `/market/offers/999999`, { token: maker.access })).statusCode).toBe(404);
    expect((await accept(other, id)).statusCode).toBe(409);
    expect(await wallet(maker)).toEqual({
      usd_balance: 1000,
      lbp_balance: 90000000,
      usd_held: 0,
      lbp_held: 0,
    });
  });

  it('lists open offers: others only unless include_mine, filters, sorts, pages', async () => {
    const a = await createUser(t);
    const b = await createUser(t);
    const viewer = await createUser(t);
    const mk = async (u: TestUser, give: 'USD' | 'LBP', rate: number) => {
      const body =
        give === 'USD'
          ? { give_currency: 'USD', give_amount: 10, want_currency: 'LBP', want_amount: 10 * rate }
          : { give_currency: 'LBP', give_amount: 10 * rate, want_currency: 'USD', want_amount: 10 };
      const r = await offer(u, body);
      expect(r.statusCode).toBe(201);
      return r.json<{ id: number }>().id;
    };
    const ids = [
      await mk(a, 'USD', 89000),
      await mk(b, 'USD', 90000),
      await mk(a, 'LBP', 89700),
      await mk(viewer, 'USD', 89100),
    ];
    const list = async (q: string, u = viewer) => {
      const r = await t.request('GET', `/market/offers?${q}`, { token: u.access });
      expect(r.statusCode).toBe(200);
      return {
        ids: r
          .json()
          .map((o: { id: number }) => o.id)
          .filter((id: number) => ids.includes(id)),
        total: Number(r.headers['x-total-count']),
      };
    };
    expect((await list('limit=200')).ids).toEqual([ids[2], ids[1], ids[0]]);
    expect((await list('limit=200&include_mine=true')).ids).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect((await list('limit=200&give_currency=LBP')).ids).toEqual([ids[2]]);
    const byRate = (await list('limit=200&sort=rate&give_currency=USD&include_mine=true')).ids;
    expect(byRate).toEqual([ids[0], ids[3], ids[1]]);
    expect((await list('limit=200&sort=rate&order=desc&give_currency=USD&include_mine=true')).ids).toEqual([
      ids[1],
      ids[3],
      ids[0],
    ]);
    const page = await t.request('GET', '/market/offers?limit=1&include_mine=true', { token: viewer.access });
    expect(page.json()).toHaveLength(1);
    expect(Number(page.headers['x-total-count'])).toBeGreaterThanOrEqual(4);
    const mine = await t.request('GET', '/market/offers/mine?status=OPEN', { token: a.access });
    expect(mine.json().map((o: { id: number }) => o.id)).toEqual([ids[2], ids[0]]);
  });

  it('idempotent creation and take: a replay returns the first response; another body is 422', async () => {
    const maker = await createUser(t);
    const taker = await createUser(t);
    const first = await offer(maker, { ...usdOffer, min_fill_amount: 10 }, 'mk-1');
    const replay = await offer(maker, { ...usdOffer, min_fill_amount: 10 }, 'mk-1');
    expect([replay.statusCode, replay.body]).toEqual([first.statusCode, first.body]);
    const reuse = await offer(maker, { ...usdOffer, give_amount: 50 }, 'mk-1');
    expect([reuse.statusCode, reuse.json().code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect((await t.request('GET', '/market/offers/mine', { token: maker.access })).json()).toHaveLength(1);
    // null optional fields mean absent, for the replay too
    const omitted = await offer(maker, usdOffer, 'mk-null');
    const withNull = await offer(
      maker,
      { ...usdOffer, min_fill_amount: null, expires_in_hours: null },
      'mk-null',
    );
    expect([withNull.statusCode, withNull.body]).toEqual([omitted.statusCode, omitted.body]);
    await t.request('DELETE', `/market/offers/${omitted.json<{ id: number }>().id}`, { token: maker.access });
    const id = first.json<{ id: number }>().id;
    const t1 = await accept(taker, id, { amount: 10 }, 'tk-1');
    const t2 = await accept(taker, id, { amount: 10 }, 'tk-1');
    expect([t2.statusCode, t2.body]).toEqual([t1.statusCode, t1.body]);
    expect((await accept(taker, id, { amount: 20 }, 'tk-1')).json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await t.request('GET', '/market/trades', { token: taker.access })).json()).toHaveLength(1);
    expect(await wallet(maker)).toMatchObject({ usd_held: 90 });
  });

  it('refuses an outlier rate with 422 RATE_OUTLIER (audited); trades record samples of source trade', async () => {
    const maker = await createUser(t);
    const taker = await createUser(t);
    for (let i = 0; i < 6; i++) {
      const id = (
        await offer(maker, {
          give_currency: 'USD',
          give_amount: 1,
          want_currency: 'LBP',
          want_amount: 89500 + i * 10,
        })
      ).json<{ id: number }>().id;
      expect((await accept(taker, id)).statusCode).toBe(201);
    }
    const res = await offer(maker, { ...usdOffer, want_amount: 3 * 8950000 });
    expect([res.statusCode, res.json().code]).toEqual([422, 'RATE_OUTLIER']);
    expect(res.json().details.map((d: { field: string }) => d.field)).toContain('baseline_median');
    expect(await wallet(maker)).toMatchObject({ usd_held: 0 });
    const logs = await t.request(
      'GET',
      `/admin/logs?event_type=OFFER_CREATE&success=false&actor_user_id=${maker.id}`,
      {
        token: admin.access,
      },
    );
    expect(logs.json().logs[0]).toMatchObject({ success: false, status_code: 422 });
    const quality = await t.request('GET', '/admin/data-quality?source=trade', { token: admin.access });
    expect(quality.statusCode).toBe(200);
    expect(quality.json().total_transactions).toBeGreaterThanOrEqual(6);
  });

  it('admin moderation: fresh admin cancels any open offer, refunds, notifies, audits', async () => {
    const maker = await createUser(t);
    const id = (await offer(maker, usdOffer)).json<{ id: number }>().id;
    const user = await createUser(t);
    expect((await t.request('DELETE', `/admin/market/offers/${id}`, { token: user.access })).statusCode).toBe(
      403,
    );
    const res = await t.request('DELETE', `/admin/market/offers/${id}`, { token: admin.access });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      message: 'Offer cancelled',
      refunded_amount: 100,
      status: 'CANCELLED',
    });
    expect(await wallet(maker)).toEqual({
      usd_balance: 1000,
      lbp_balance: 90000000,
      usd_held: 0,
      lbp_held: 0,
    });
    const notes = (await t.request('GET', '/notifications', { token: maker.access })).json();
    expect(notes[0]).toMatchObject({ event_type: 'OFFER_CANCELLED', ref_type: 'offer', ref_id: id });
    const logs = await t.request(
      'GET',
      `/admin/logs?event_type=ADMIN_OFFER_CANCEL&target_user_id=${maker.id}`,
      {
        token: admin.access,
      },
    );
    expect(logs.json().logs[0]).toMatchObject({ success: true, actor_user_id: admin.id });
    expect(
      (await t.request('DELETE', `/admin/market/offers/${id}`, { token: admin.access })).statusCode,
    ).toBe(409);
  });

  it('audits offer create, accept and cancel with the offer in metadata', async () => {
    const maker = await createUser(t);
    const taker = await createUser(t);
    const id = (await offer(maker, { ...usdOffer, min_fill_amount: 1 })).json<{ id: number }>().id;
    await accept(taker, id, { amount: 1 });
    await t.request('DELETE', `/market/offers/${id}`, { token: maker.access });
    for (const [event, actor] of [
      ['OFFER_CREATE', maker],
      ['OFFER_ACCEPT', taker],
      ['OFFER_CANCEL', maker],
    ] as const) {
      const r = await t.request('GET', `/admin/logs?event_type=${event}&actor_user_id=${actor.id}`, {
        token: admin.access,
      });
      const row = r.json().logs[0];
      expect(row).toMatchObject({ success: true, target_user_id: maker.id });
      expect(JSON.parse(row.metadata_json)).toMatchObject({ offer_id: id });
    }
  });

  it('an offer that cannot be refunded does not stop the sweep from expiring the others', async () => {
    const broken = await createUser(t);
    const fine = await createUser(t);
    const a = (await offer(broken, { ...usdOffer, expires_in_hours: 1 })).json<{ id: number }>().id;
    const b = (await offer(fine, { ...usdOffer, expires_in_hours: 2 })).json<{ id: number }>().id;
    const ds = t.app.get(DataSource);
    await ds.query(`UPDATE wallets SET usd_held = 0 WHERE user_id = ${broken.id}`); // held out of line
    jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 3 * 3_600_000));
    try {
      await t.app.get(SchedulerService).runJob('offer-expiry', 'test');
    } finally {
      jest.restoreAllMocks();
    }
    const mine = async (u: TestUser, id: number) =>
      (await t.request('GET', `/market/offers/${id}`, { token: u.access })).json<{
        refunded_amount: number;
      }>();
    expect((await mine(fine, b)).refunded_amount).toBe(100);
    expect((await mine(broken, a)).refunded_amount).toBe(0);
    await ds.query(`UPDATE wallets SET usd_held = 10000 WHERE user_id = ${broken.id}`); // put it right
    expect((await verify()).ok).toBe(true);
  });

  it('expires offers through the sweep and refunds', async () => {
    const maker = await createUser(t);
    const id = (await offer(maker, { ...usdOffer, expires_in_hours: 1 })).json<{ id: number }>().id;
    const clock = t.app.get(Clock);
    const later = new Date(Date.now() + 3_601_000);
    jest.spyOn(clock, 'now').mockReturnValue(later);
    expect((await accept(await createUser(t), id)).statusCode).toBe(409);
    const byStatus = async (s: string) =>
      (await t.request('GET', `/market/offers/mine?status=${s}`, { token: maker.access }))
        .json()
        .map((o: { id: number; status: string }) => [o.id, o.status]);
    expect(await byStatus('EXPIRED')).toEqual([[id, 'EXPIRED']]); // not swept yet, but past its expiry
    expect(await byStatus('OPEN')).toEqual([]);
    await t.app.get(SchedulerService).runJob('offer-expiry', 'test');
    jest.restoreAllMocks();
    const mine = (await t.request('GET', '/market/offers/mine', { token: maker.access })).json();
    expect(mine[0]).toMatchObject({ id, status: 'EXPIRED', refunded_amount: 100 });
    expect(await wallet(maker)).toEqual({
      usd_balance: 1000,
      lbp_balance: 90000000,
      usd_held: 0,
      lbp_held: 0,
    });
    const other = await login(t, admin.userName, admin.password);
    expect((await t.request('GET', '/admin/ledger/verify', { token: other.access })).json().ok).toBe(true);
    const notes = (await t.request('GET', '/notifications', { token: maker.access })).json();
    expect(notes[0]).toMatchObject({ event_type: 'OFFER_EXPIRED', ref_id: id });
    const logs = await t.request('GET', `/admin/logs?event_type=OFFER_EXPIRE&target_user_id=${maker.id}`, {
      token: other.access,
    });
    expect(logs.json().logs[0]).toMatchObject({ success: true, actor_user_id: null });
  });
});

describe('P2P marketplace rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ STARTING_BALANCE_USD: '1000', OFFER_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('limits offer creation and acceptance together per user: 429 RATE_LIMITED with Retry-After', async () => {
    const u = await createUser(t);
    const body = { give_currency: 'USD', give_amount: 1, want_currency: 'LBP', want_amount: 89500 };
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await t.request('POST', '/market/offers', { token: u.access, body })).statusCode);
    const limited = await t.request('POST', '/market/offers/1/accept', { token: u.access });
    expect(codes).toEqual([201, 201, 201]);
    expect([limited.statusCode, limited.json().code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const other = await createUser(t);
    expect((await t.request('POST', '/market/offers', { token: other.access, body })).statusCode).toBe(201);
    const w = (await t.request('GET', '/wallet', { token: u.access })).json();
    expect(w).toMatchObject({ usd_balance: 997, usd_held: 3 });
  });
});
