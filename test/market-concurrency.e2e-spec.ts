import { Clock } from '../src/common/clock';
import { type Currency, toMinor } from '../src/common/money';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(180_000);

const START_USD = 1000;
const START_LBP = 100_000_000;

interface Wallet {
  usd_balance: number;
  lbp_balance: number;
  usd_held: number;
  lbp_held: number;
}

interface Trade {
  id: number;
  offer_id: number;
  buyer_user_id: number;
  seller_user_id: number;
  maker_user_id: number;
  taker_user_id: number;
  usd_amount: number;
  lbp_amount: number;
}

interface Offer {
  id: number;
  give_currency: Currency;
  give_amount: number;
  want_currency: Currency;
  want_amount: number;
  remaining_give_amount: number;
  status: string;
  filled_give_amount: number;
  received_want_amount: number;
  refunded_amount: number;
}

/** Expected balances in minor units, kept from the API's own responses. */
interface Balances {
  USD: bigint;
  LBP: bigint;
  heldUSD: bigint;
  heldLBP: bigint;
}

const other = (c: Currency): Currency => (c === 'USD' ? 'LBP' : 'USD');
const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
/** The give side of a trade, in the offer's give currency (minor units). */
const giveOf = (tr: Trade, give: Currency): bigint => toMinor(give === 'USD' ? tr.usd_amount : tr.lbp_amount);
const wantOf = (tr: Trade, give: Currency): bigint => toMinor(give === 'USD' ? tr.lbp_amount : tr.usd_amount);

/** Runs fn over items with at most `limit` in flight. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Resolves once `n` of the promises have settled. */
function settled(ps: Promise<unknown>[], n: number): Promise<void> {
  return new Promise((resolve) => {
    let done = 0;
    if (n <= 0) resolve();
    const one = (): void => {
      if (++done === n) resolve();
    };
    for (const p of ps) p.then(one, one);
  });
}

/**
 * Races on one offer: many takers at once, takers against a cancel, takers against the expiry sweep,
 * and replays of one Idempotency-Key. Whatever the interleaving, each unit of an offer's give side is
 * either traded once or refunded once, never both, and the ledger stays exact.
 */
describe('P2P marketplace under concurrency', () => {
  let t: TestApp;
  let admin: TestUser;
  const model = new Map<number, Balances>();
  const everyone: TestUser[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: String(START_USD),
      STARTING_BALANCE_LBP: String(START_LBP),
      OFFER_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
    });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const users = async (n: number, prefix = 'cc'): Promise<TestUser[]> => {
    const created = await mapLimit(Array.from({ length: n }), 8, () => createUser(t, prefix));
    everyone.push(...created);
    for (const u of created) {
      model.set(u.id, { USD: toMinor(START_USD), LBP: toMinor(START_LBP), heldUSD: 0n, heldLBP: 0n });
    }
    return created;
  };
  const bal = (id: number): Balances => {
    const b = model.get(id);
    if (!b) throw new Error(`no model for user ${id}`);
    return b;
  };
  const headers = (key?: string): Record<string, string> => (key ? { 'idempotency-key': key } : {});
  const createOffer = (u: TestUser, body: Record<string, unknown>, key?: string): Promise<Res> =>
    t.request('POST', '/market/offers', { token: u.access, body, headers: headers(key) });
  const accept = (u: TestUser, id: number, body?: Record<string, unknown>, key?: string): Promise<Res> =>
    t.request('POST', `/market/offers/${id}/accept`, { token: u.access, body, headers: headers(key) });
  const cancel = (u: TestUser, id: number): Promise<Res> =>
    t.request('DELETE', `/market/offers/${id}`, { token: u.access });
  const ownOffer = async (u: TestUser, id: number): Promise<Offer> => {
    const res = await t.request('GET', `/market/offers/${id}`, { token: u.access });
    expect(res.statusCode).toBe(200);
    return res.json<Offer>();
  };
  const tradesOf = async (maker: TestUser, offerId: number): Promise<Trade[]> => {
    const res = await t.request('GET', `/market/trades?offer_id=${offerId}&limit=200`, {
      token: maker.access,
    });
    expect(res.statusCode).toBe(200);
    return res.json<Trade[]>();
  };
  const wallet = async (u: TestUser): Promise<Wallet> =>
    (await t.request('GET', '/wallet', { token: u.access })).json<Wallet>();
  const expectLedgerOk = async (): Promise<void> => {
    const res = await t.request('GET', '/admin/ledger/verify', { token: admin.access });
    expect(res.json()).toEqual({ ok: true, currencies: { USD: '0.00', LBP: '0.00' }, mismatches: [] });
  };

  /** Books a created offer's escrow into the model. */
  const escrow = (maker: TestUser, o: Offer): void => {
    const b = bal(maker.id);
    const give = toMinor(o.give_amount);
    b[o.give_currency] -= give;
    b[o.give_currency === 'USD' ? 'heldUSD' : 'heldLBP'] += give;
  };
  /** Books a trade (as its response reported it) into the model. */
  const settle = (tr: Trade, give: Currency): void => {
    const maker = bal(tr.maker_user_id);
    const taker = bal(tr.taker_user_id);
    const fill = giveOf(tr, give);
    const pay = wantOf(tr, give);
    maker[give === 'USD' ? 'heldUSD' : 'heldLBP'] -= fill;
    maker[other(give)] += pay;
    taker[give] += fill;
    taker[other(give)] -= pay;
  };
  const refund = (makerId: number, give: Currency, amount: bigint): void => {
    const b = bal(makerId);
    b[give === 'USD' ? 'heldUSD' : 'heldLBP'] -= amount;
    b[give] += amount;
  };
  /** Every listed user's wallet equals the model, exactly. */
  const expectWallets = async (us: TestUser[]): Promise<void> => {
    const actual = await mapLimit(us, 20, async (u) => ({ id: u.id, ...(await wallet(u)) }));
    const expected = us.map((u) => {
      const b = bal(u.id);
      return {
        id: u.id,
        usd_balance: Number(b.USD) / 100,
        lbp_balance: Number(b.LBP) / 100,
        usd_held: Number(b.heldUSD) / 100,
        lbp_held: Number(b.heldLBP) / 100,
      };
    });
    expect(actual).toEqual(expected);
  };
  const open = async (maker: TestUser, body: Record<string, unknown>): Promise<Offer> => {
    const res = await createOffer(maker, body);
    expect(res.statusCode).toBe(201);
    const o = res.json<Offer>();
    escrow(maker, o);
    return o;
  };
  const codes = (rs: Res[]): string[] => rs.filter((r) => r.statusCode !== 201).map((r) => r.json().code);

  it('100 simultaneous takers of one whole offer: exactly one trade, 99 × 409 OFFER_NOT_OPEN', async () => {
    const [maker] = await users(1, 'mk');
    const takers = await users(100, 'tk');
    const o = await open(maker, {
      give_currency: 'USD',
      give_amount: 100,
      want_currency: 'LBP',
      want_amount: 8_950_000,
    });

    const results = await Promise.all(takers.map((u) => accept(u, o.id)));

    const won = results.map((r, i) => [r, takers[i]] as const).filter(([r]) => r.statusCode === 201);
    expect(won).toHaveLength(1);
    const losers = results.filter((r) => r.statusCode !== 201);
    expect(losers.map((r) => r.statusCode)).toEqual(Array(99).fill(409));
    expect(codes(results)).toEqual(Array(99).fill('OFFER_NOT_OPEN'));
    const [winRes, winner] = won[0];
    const trade = winRes.json().trade as Trade;
    expect(trade).toMatchObject({
      offer_id: o.id,
      buyer_user_id: winner.id,
      seller_user_id: maker.id,
      usd_amount: 100,
      lbp_amount: 8_950_000,
    });
    settle(trade, 'USD');

    expect(await wallet(maker)).toEqual({
      usd_balance: START_USD - 100,
      lbp_balance: START_LBP + 8_950_000,
      usd_held: 0,
      lbp_held: 0,
    });
    expect(await wallet(winner)).toEqual({
      usd_balance: START_USD + 100,
      lbp_balance: START_LBP - 8_950_000,
      usd_held: 0,
      lbp_held: 0,
    });
    await expectWallets([maker, ...takers]); // the 99 losers unchanged
    expect((await tradesOf(maker, o.id)).map((x) => x.id)).toEqual([trade.id]);
    expect(await ownOffer(maker, o.id)).toMatchObject({
      status: 'COMPLETED',
      remaining_give_amount: 0,
      filled_give_amount: 100,
      received_want_amount: 8_950_000,
      refunded_amount: 0,
    });
    await expectLedgerOk();
  });

  it('30 concurrent partial takers: exactly as many fills as the remainder allows, never oversold', async () => {
    const [maker] = await users(1, 'mk');
    const takers = await users(30, 'pt');
    // 8,950,000.07 does not split evenly into tenths: each fill rounds up (against its taker), so the
    // maker receives 8,950,000.10 in all
    const o = await open(maker, {
      give_currency: 'USD',
      give_amount: 100,
      want_currency: 'LBP',
      want_amount: 8_950_000.07,
      min_fill_amount: 10,
    });

    const results = await Promise.all(takers.map((u) => accept(u, o.id, { amount: 10 })));

    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(10);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(20);
    for (const c of codes(results)) expect(['OFFER_NOT_OPEN', 'OFFER_REMAINDER_TOO_SMALL']).toContain(c);
    const trades = results.filter((r) => r.statusCode === 201).map((r) => r.json().trade as Trade);
    for (const tr of trades) settle(tr, 'USD');
    expect(trades.map((tr) => giveOf(tr, 'USD'))).toEqual(Array(10).fill(toMinor(10)));
    expect(sum(trades.map((tr) => giveOf(tr, 'USD')))).toBe(toMinor(100));
    expect(sum(trades.map((tr) => wantOf(tr, 'USD')))).toBe(toMinor(8_950_000.1));
    expect((await tradesOf(maker, o.id)).map((x) => x.id).sort((a, b) => a - b)).toEqual(
      trades.map((x) => x.id).sort((a, b) => a - b),
    );
    expect(await ownOffer(maker, o.id)).toMatchObject({
      status: 'COMPLETED',
      remaining_give_amount: 0,
      filled_give_amount: 100,
      received_want_amount: 8_950_000.1,
    });
    const w = await wallet(maker);
    expect(toMinor(w.lbp_balance) - toMinor(START_LBP)).toBe(toMinor(8_950_000.1));
    await expectWallets([maker, ...takers]);
    expect((await cancel(maker, o.id)).statusCode).toBe(409);
    await expectLedgerOk();
  });

  it('partial takers leave a remainder too small for them; the cancel refunds exactly that remainder', async () => {
    const [maker] = await users(1, 'mk');
    const takers = await users(30, 'pr');
    const give = 9_000_000.5;
    const o = await open(maker, {
      give_currency: 'LBP',
      give_amount: give,
      want_currency: 'USD',
      want_amount: 100.33,
      min_fill_amount: 700_000,
    });

    const results = await Promise.all(takers.map((u) => accept(u, o.id, { amount: 700_000 })));

    // 12 × 700,000 = 8,400,000 fit; 600,000.50 is left, less than anyone asks for
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(12);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(18);
    for (const c of codes(results)) expect(['OFFER_NOT_OPEN', 'OFFER_REMAINDER_TOO_SMALL']).toContain(c);
    const trades = results.filter((r) => r.statusCode === 201).map((r) => r.json().trade as Trade);
    for (const tr of trades) settle(tr, 'LBP');
    const filled = sum(trades.map((tr) => giveOf(tr, 'LBP')));
    expect(filled).toBe(toMinor(8_400_000));

    const c = await cancel(maker, o.id);
    expect(c.statusCode).toBe(200);
    expect(c.json()).toMatchObject({ refunded_amount: 600_000.5, currency: 'LBP', status: 'CANCELLED' });
    const refunded = toMinor(c.json().refunded_amount);
    refund(maker.id, 'LBP', refunded);
    expect(filled + refunded).toBe(toMinor(give));

    const paid = sum(trades.map((tr) => wantOf(tr, 'LBP')));
    const after = await ownOffer(maker, o.id);
    expect(after).toMatchObject({
      status: 'CANCELLED',
      refunded_amount: 600_000.5,
      filled_give_amount: 8_400_000,
    });
    expect(toMinor(after.received_want_amount)).toBe(paid);
    // what the maker received in USD is exactly what the takers paid
    expect(toMinor((await wallet(maker)).usd_balance) - toMinor(START_USD)).toBe(paid);
    await expectWallets([maker, ...takers]);
    expect((await cancel(maker, o.id)).statusCode).toBe(409);
    await expectLedgerOk();
  });

  it('a cancel racing takes: every unit is either traded or refunded, escrow ends at 0', async () => {
    const takers = await users(10, 'cr');
    const shapes: { body: Record<string, unknown>; amounts: (number | undefined)[] }[] = [
      // whole only: one take or the cancel
      {
        body: { give_currency: 'USD', give_amount: 100, want_currency: 'LBP', want_amount: 8_950_000 },
        amounts: Array<undefined>(10).fill(undefined),
      },
      // partial, asks add up to more than there is
      {
        body: {
          give_currency: 'USD',
          give_amount: 100,
          want_currency: 'LBP',
          want_amount: 8_950_001.11,
          min_fill_amount: 10,
        },
        amounts: [10, 20, 15, 25, 10, 30, 12.5, 10, 40, 11],
      },
      // partial in LBP, the last taker asks for whatever is left
      {
        body: {
          give_currency: 'LBP',
          give_amount: 9_000_000,
          want_currency: 'USD',
          want_amount: 100.01,
          min_fill_amount: 500_000,
        },
        amounts: [500_000, 1_000_000, 2_500_000, 700_000.5, 900_000, 3_000_000, 500_000, 600_000, 1_200_000],
      },
      // partial, asks add up to less than there is: the cancel always refunds something
      {
        body: {
          give_currency: 'USD',
          give_amount: 200,
          want_currency: 'LBP',
          want_amount: 17_900_000.99,
          min_fill_amount: 10,
        },
        amounts: [10, 11, 12, 13, 14, 15, 10.01, 10.5, 12.25, 13],
      },
    ];
    // headStart takes are fired first; when half of them have settled, the cancel and the other takes
    // are fired together (the cancel first) while the rest of the first ones are still in flight.
    // 0: the cancel goes out first of all.
    const headStarts = [0, 1, 3, 6, 10];
    const makers = await users(shapes.length * headStarts.length, 'cm');
    let round = 0;
    const outcomes = { cancelled: 0, completed: 0 };
    for (const headStart of headStarts) {
      for (const shape of shapes) {
        const maker = makers[round++];
        const o = await open(maker, shape.body);
        const give = o.give_currency;
        const take = (i: number): Promise<Res> => {
          const amount = shape.amounts[i];
          return accept(takers[i], o.id, amount === undefined ? undefined : { amount });
        };

        const first = Array.from({ length: headStart }, (_, i) => take(i));
        const go = settled(first, Math.ceil(headStart / 2));
        const rest = go.then(() => {
          const c = cancel(maker, o.id);
          const others = Array.from({ length: takers.length - headStart }, (_, i) => take(headStart + i));
          return Promise.all([c, Promise.all(others)]);
        });
        const [firstRes, [cancelRes, otherRes]] = await Promise.all([Promise.all(first), rest]);
        const acceptRes = [...firstRes, ...otherRes];

        for (const r of acceptRes) expect([201, 409]).toContain(r.statusCode);
        for (const c of codes(acceptRes))
          expect(['OFFER_NOT_OPEN', 'OFFER_REMAINDER_TOO_SMALL']).toContain(c);
        const trades = acceptRes.filter((r) => r.statusCode === 201).map((r) => r.json().trade as Trade);
        for (const tr of trades) settle(tr, give);
        const filled = sum(trades.map((tr) => giveOf(tr, give)));
        const after = await ownOffer(maker, o.id);
        let refunded = 0n;
        if (cancelRes.statusCode === 200) {
          outcomes.cancelled++;
          refunded = toMinor(cancelRes.json().refunded_amount);
          refund(maker.id, give, refunded);
          expect(refunded).toBeGreaterThan(0n);
          expect(refunded).toBe(toMinor(o.give_amount) - filled);
          expect(after).toMatchObject({
            status: 'CANCELLED',
            refunded_amount: cancelRes.json().refunded_amount,
          });
        } else {
          outcomes.completed++;
          expect([cancelRes.statusCode, cancelRes.json().code]).toEqual([409, 'OFFER_NOT_OPEN']);
          expect(after).toMatchObject({ status: 'COMPLETED', refunded_amount: 0, remaining_give_amount: 0 });
        }
        if (shape.body.min_fill_amount === undefined) expect(trades.length).toBeLessThanOrEqual(1);
        expect(filled + refunded).toBe(toMinor(o.give_amount));
        expect(toMinor(after.filled_give_amount)).toBe(filled);
        expect(toMinor(after.received_want_amount)).toBe(sum(trades.map((tr) => wantOf(tr, give))));
        expect((await tradesOf(maker, o.id)).length).toBe(trades.length);
        const w = await wallet(maker);
        expect([w.usd_held, w.lbp_held]).toEqual([0, 0]);
        await expectWallets([maker, ...takers]);
        await expectLedgerOk();
      }
    }
    // both outcomes happened: a whole offer with a head start is always taken before the cancel, the
    // last shape always leaves something to refund
    expect(outcomes.cancelled).toBeGreaterThanOrEqual(headStarts.length);
    expect(outcomes.completed).toBeGreaterThanOrEqual(headStarts.length - 1);
    expect(outcomes.cancelled + outcomes.completed).toBe(shapes.length * headStarts.length);
  });

  it('the expiry sweep racing takes: at the expired clock every take is 409, the sweep refunds the remainder', async () => {
    const [maker] = await users(1, 'ex');
    const takers = await users(12, 'et');
    const o = await open(maker, {
      give_currency: 'USD',
      give_amount: 100,
      want_currency: 'LBP',
      want_amount: 8_950_000,
      min_fill_amount: 10,
      expires_in_hours: 1,
    });
    // two fills while it is still open
    for (const u of takers.slice(0, 2)) {
      const r = await accept(u, o.id, { amount: 10 });
      expect(r.statusCode).toBe(201);
      settle(r.json().trade as Trade, 'USD');
    }
    const due = new Date(Date.now() + 3_600_000 + 1_000);
    jest.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(due.getTime()));
    const scheduler = t.app.get(SchedulerService);

    const [ran, ...results] = await Promise.all([
      scheduler.runJob('offer-expiry', 'x'),
      ...takers.map((u, i) => accept(u, o.id, i % 3 === 0 ? undefined : { amount: 10 })),
    ]);

    expect(ran).toBe(true);
    expect(results.map((r) => [r.statusCode, r.json().code])).toEqual(
      Array(12).fill([409, 'OFFER_NOT_OPEN']),
    );
    const after = await ownOffer(maker, o.id);
    jest.restoreAllMocks();
    expect(after).toMatchObject({
      status: 'EXPIRED',
      remaining_give_amount: 80,
      filled_give_amount: 20,
      refunded_amount: 80,
    });
    refund(maker.id, 'USD', toMinor(80));
    expect(await tradesOf(maker, o.id)).toHaveLength(2);
    await expectWallets([maker, ...takers]);
    expect((await wallet(maker)).usd_balance).toBe(START_USD - 20);
    // a second sweep finds nothing more to refund
    jest.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(due.getTime() + 60_000));
    expect(await scheduler.runJob('offer-expiry', 'x')).toBe(true);
    jest.restoreAllMocks();
    expect((await ownOffer(maker, o.id)).refunded_amount).toBe(80);
    await expectWallets([maker]);
    await expectLedgerOk();
  });

  it('one Idempotency-Key replayed 20 times at once on a partial take: one trade, 20 identical responses', async () => {
    const [maker, taker, second] = await users(3, 'ik');
    const o = await open(maker, {
      give_currency: 'USD',
      give_amount: 100,
      want_currency: 'LBP',
      want_amount: 8_950_000,
      min_fill_amount: 10,
    });
    const o2 = await open(maker, {
      give_currency: 'USD',
      give_amount: 50,
      want_currency: 'LBP',
      want_amount: 4_475_000,
      min_fill_amount: 5,
    });

    const results = await Promise.all(
      Array.from({ length: 20 }, () => accept(taker, o.id, { amount: 25 }, 'take-once')),
    );

    expect(results[0].statusCode).toBe(201);
    for (const r of results)
      expect({ status: r.statusCode, body: r.body }).toEqual({
        status: results[0].statusCode,
        body: results[0].body,
      });
    const trade = results[0].json().trade as Trade;
    expect(trade).toMatchObject({ usd_amount: 25, lbp_amount: 2_237_500, taker_user_id: taker.id });
    settle(trade, 'USD');
    expect((await tradesOf(maker, o.id)).map((x) => x.id)).toEqual([trade.id]);
    expect((await ownOffer(maker, o.id)).remaining_give_amount).toBe(75);

    const reuse = await accept(taker, o.id, { amount: 30 }, 'take-once');
    expect([reuse.statusCode, reuse.json().code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const elsewhere = await accept(taker, o2.id, { amount: 25 }, 'take-once');
    expect([elsewhere.statusCode, elsewhere.json().code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // the key is per user: someone else may use the same string
    const theirs = await accept(second, o.id, { amount: 25 }, 'take-once');
    expect(theirs.statusCode).toBe(201);
    settle(theirs.json().trade as Trade, 'USD');
    const late = await accept(taker, o.id, { amount: 25 }, 'take-once');
    expect({ status: late.statusCode, body: late.body }).toEqual({
      status: results[0].statusCode,
      body: results[0].body,
    });
    expect(await tradesOf(maker, o.id)).toHaveLength(2);
    expect((await ownOffer(maker, o.id)).remaining_give_amount).toBe(50);
    expect((await ownOffer(maker, o2.id)).remaining_give_amount).toBe(50);
    await expectWallets([maker, taker, second]);
    await expectLedgerOk();
  });

  it('one Idempotency-Key replayed 20 times at once on offer creation: one offer, one escrow', async () => {
    const [maker] = await users(1, 'ic');
    const body = {
      give_currency: 'LBP',
      give_amount: 4_500_000,
      want_currency: 'USD',
      want_amount: 50,
      min_fill_amount: 450_000,
      expires_in_hours: 24,
    };

    const results = await Promise.all(
      Array.from({ length: 20 }, () => createOffer(maker, body, 'make-once')),
    );

    expect(results[0].statusCode).toBe(201);
    for (const r of results)
      expect({ status: r.statusCode, body: r.body }).toEqual({
        status: results[0].statusCode,
        body: results[0].body,
      });
    const o = results[0].json<Offer>();
    escrow(maker, o);
    const mine = (await t.request('GET', '/market/offers/mine', { token: maker.access })).json<Offer[]>();
    expect(mine.map((x) => x.id)).toEqual([o.id]);
    expect(await wallet(maker)).toEqual({
      usd_balance: START_USD,
      lbp_balance: START_LBP - 4_500_000,
      usd_held: 0,
      lbp_held: 4_500_000,
    });

    const reuse = await createOffer(maker, { ...body, want_amount: 51 }, 'make-once');
    expect([reuse.statusCode, reuse.json().code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const replay = await createOffer(maker, body, 'make-once');
    expect({ status: replay.statusCode, body: replay.body }).toEqual({
      status: results[0].statusCode,
      body: results[0].body,
    });
    expect((await t.request('GET', '/market/offers/mine', { token: maker.access })).json()).toHaveLength(1);
    await expectWallets([maker]);
    await expectLedgerOk();
  });

  it('one wallet against many offers at once: escrows and takes never overdraw it', async () => {
    const [maker, taker] = await users(2, 'od');
    const makers = await users(10, 'om');
    const offerBody = {
      give_currency: 'USD',
      give_amount: 300,
      want_currency: 'LBP',
      want_amount: 26_850_000,
    };

    // 10 escrows of 300 USD out of 1,000: exactly 3 fit
    const made = await Promise.all(makers.map(() => createOffer(maker, offerBody)));
    expect(made.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(made.filter((r) => r.statusCode !== 201).map((r) => [r.statusCode, r.json().code])).toEqual(
      Array(7).fill([422, 'INSUFFICIENT_BALANCE']),
    );
    for (const r of made.filter((x) => x.statusCode === 201)) escrow(maker, r.json<Offer>());
    expect(await wallet(maker)).toEqual({
      usd_balance: 100,
      lbp_balance: START_LBP,
      usd_held: 900,
      lbp_held: 0,
    });

    // 10 whole takes of 26,850,000 LBP each out of 100,000,000: exactly 3 fit
    const offers = await mapLimit(makers, 5, (m) => open(m, offerBody));
    const taken = await Promise.all(offers.map((o) => accept(taker, o.id)));
    expect(taken.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(taken.filter((r) => r.statusCode !== 201).map((r) => [r.statusCode, r.json().code])).toEqual(
      Array(7).fill([422, 'INSUFFICIENT_BALANCE']),
    );
    for (const r of taken.filter((x) => x.statusCode === 201)) settle(r.json().trade as Trade, 'USD');
    for (const [i, o] of offers.entries()) {
      expect((await ownOffer(makers[i], o.id)).status).toBe(
        taken[i].statusCode === 201 ? 'COMPLETED' : 'OPEN',
      );
    }
    expect(await wallet(taker)).toEqual({
      usd_balance: START_USD + 900,
      lbp_balance: START_LBP - 3 * 26_850_000,
      usd_held: 0,
      lbp_held: 0,
    });
    await expectWallets([maker, taker, ...makers]);
    await expectLedgerOk();
  });

  it('every user of this file ends where the model says', async () => {
    expect(everyone.length).toBeGreaterThan(150);
    await expectWallets(everyone);
    await expectLedgerOk();
  });
});
