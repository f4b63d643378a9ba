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

  it('expires offers through the sweep and refunds', async () => {
    const maker = await createUser(t);
    const id = (await offer(maker, { ...usdOffer, expires_in_hours: 1 })).json<{ id: number }>().id;
    const clock = t.app.get(Clock);
    const later = new Date(Date.now() + 3_601_000);
    jest.spyOn(clock, 'now').mockReturnValue(later);
    expect((await accept(await createUser(t), id)).statusCode).toBe(409);
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
  });
});
