import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

/**
 * The revised money model (issue 16): records move no money, the wallet's doors are deposits and
 * withdrawals decided by an admin, the house converts only at its own locked quote, and the
 * reference rate is robust to any one account. Each test starts its own app (fresh database).
 */

jest.setTimeout(180_000);

const LIMITS = {
  TRANSACTION_RATE_LIMIT: '1000000',
  OFFER_RATE_LIMIT: '1000000',
  FUNDING_RATE_LIMIT: '1000000',
  QUOTE_RATE_LIMIT: '1000000',
};

interface Rate {
  usd_to_lbp: number | null;
  lbp_to_usd: number | null;
  contributors: { usd_to_lbp: number; lbp_to_usd: number };
  samples: { usd_to_lbp: number; lbp_to_usd: number };
}

interface Wallet {
  usd_balance: number;
  lbp_balance: number;
  usd_held: number;
  lbp_held: number;
}

interface Quote {
  id: number;
  from_currency: string;
  to_currency: string;
  from_amount: number;
  to_amount: number;
  rate: number;
  reference_rate: number;
  spread_percent: number;
  expires_at: string;
}

function helpers(t: () => TestApp) {
  const record = (u: TestUser, usd: number, rate: number, usdToLbp = true): Promise<Res> =>
    t().request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: usd, lbp_amount: Math.round(usd * rate * 100) / 100, usd_to_lbp: usdToLbp },
    });
  const rate = async (): Promise<Rate> => (await t().request('GET', '/exchangeRate')).json<Rate>();
  const wallet = async (u: TestUser): Promise<Wallet> =>
    (await t().request('GET', '/wallet', { token: u.access })).json<Wallet>();
  const quote = (u: TestUser, from: 'USD' | 'LBP', amount: number): Promise<Res> =>
    t().request('POST', '/quotes', {
      token: u.access,
      body: { from_currency: from, to_currency: from === 'USD' ? 'LBP' : 'USD', from_amount: amount },
    });
  const convert = (u: TestUser, quoteId: number, key?: string): Promise<Res> =>
    t().request('POST', '/wallet/convert', {
      token: u.access,
      body: { quote_id: quoteId },
      headers: key ? { 'idempotency-key': key } : {},
    });
  const verify = async (admin: TestUser) =>
    (await t().request('GET', '/admin/ledger/verify', { token: admin.access })).json<{
      ok: boolean;
      mismatches: unknown[];
    }>();
  const house = async (admin: TestUser) =>
    (await t().request('GET', '/admin/house', { token: admin.access })).json<{
      reference_rate: number | null;
      bid: number | null;
      ask: number | null;
      net_position: { usd: number; lbp: number };
      conversions_24h: number;
    }>();
  /** `n` accounts that each record `usd` USD at the rates given (in turn). */
  const honest = async (n: number, rates: number[], usd = 100): Promise<TestUser[]> => {
    const users: TestUser[] = [];
    for (let i = 0; i < n; i++) {
      const u = await createUser(t(), 'honest');
      const res = await record(u, usd, rates[i % rates.length]);
      expect({ i, status: res.statusCode, body: res.body }).toMatchObject({ i, status: 201 });
      users.push(u);
    }
    return users;
  };
  return { record, rate, wallet, quote, convert, verify, house, honest };
}

/** The house's value at a mid, in LBP minor units: what it holds in USD at the mid plus its LBP. */
const valueAt = (p: { usd: number; lbp: number }, mid: number): number => p.usd * mid + p.lbp;

describe('the exploit of the old model: round trips at ±19%', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS, STARTING_BALANCE_USD: '1000' });
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  it('5 round trips by records at ±19% change no balance and barely the published rate', async () => {
    await h.honest(5, [89_300, 89_400, 89_500, 89_600, 89_700]);
    const before = await h.rate();
    expect(before.usd_to_lbp).toBe(89_500);
    const u = await createUser(t, 'greedy');
    const start = await h.wallet(u);
    expect(start).toEqual({ usd_balance: 1000, lbp_balance: 0, usd_held: 0, lbp_held: 0 });
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      statuses.push((await h.record(u, 100, 89_500 * 1.19, true)).statusCode); // "sell" 19% above
      statuses.push((await h.record(u, 100, 89_500 * 0.81, false)).statusCode); // "buy back" 19% below
    }
    // whether the guard accepts them or not, a record moves no money
    expect(statuses.every((s) => s === 201 || s === 422)).toBe(true);
    expect(await h.wallet(u)).toEqual(start);
    const after = await h.rate();
    expect(Math.abs((after.usd_to_lbp ?? 0) - 89_500) / 89_500).toBeLessThanOrEqual(0.01);
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('the same through quotes and conversions loses the spread each round; the house never loses value at the mid', async () => {
    const u = await createUser(t, 'roundtrip');
    let usd = 100;
    for (let round = 0; round < 5; round++) {
      const housePositions: { usd: number; lbp: number }[] = [(await h.house(admin)).net_position];
      const sell = await h.quote(u, 'USD', usd);
      expect(sell.statusCode).toBe(201);
      const q1 = sell.json<Quote>();
      expect(q1.rate).toBeLessThan(q1.reference_rate); // the bid
      expect((await h.convert(u, q1.id)).statusCode).toBe(201);
      housePositions.push((await h.house(admin)).net_position);
      const buy = await h.quote(u, 'LBP', q1.to_amount);
      expect(buy.statusCode).toBe(201);
      const q2 = buy.json<Quote>();
      expect(q2.rate).toBeGreaterThan(q2.reference_rate); // the ask
      const back = await h.convert(u, q2.id);
      expect(back.statusCode).toBe(201);
      housePositions.push((await h.house(admin)).net_position);
      const next = back.json<{ to_amount: number }>().to_amount;
      // one round costs about twice the 1% spread, never less
      expect(next).toBeLessThan(usd * 0.99);
      expect(next).toBeGreaterThan(usd * 0.97);
      usd = next;
      // each conversion raised the house's value at that quote's mid
      expect(valueAt(housePositions[1], q1.reference_rate)).toBeGreaterThan(
        valueAt(housePositions[0], q1.reference_rate),
      );
      expect(valueAt(housePositions[2], q2.reference_rate)).toBeGreaterThan(
        valueAt(housePositions[1], q2.reference_rate),
      );
    }
    const w = await h.wallet(u);
    expect(w.usd_balance).toBeCloseTo(900 + usd, 2);
    expect(w.usd_balance).toBeLessThan(1000);
    expect((await h.verify(admin)).ok).toBe(true);
  });
});

describe('one account cannot move the reference rate', () => {
  let t: TestApp;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp({
      ...LIMITS,
      STARTING_BALANCE_USD: '100000',
      STARTING_BALANCE_LBP: '10000000000',
    });
  });
  afterAll(() => t.close());

  it('with fewer than RATE_MIN_CONTRIBUTORS contributors the rate is null and there is no quote', async () => {
    const [a, b] = await h.honest(2, [89_400, 89_600]);
    // any number of records from the two: still two contributors
    for (let i = 0; i < 10; i++) expect((await h.record(a, 100, 89_450)).statusCode).toBe(201);
    const r = await h.rate();
    expect(r).toMatchObject({
      usd_to_lbp: null,
      contributors: { usd_to_lbp: 2 },
      samples: { usd_to_lbp: 12 },
    });
    const q = await h.quote(b, 'USD', 10);
    expect(q.statusCode).toBe(422);
    expect(q.json()).toMatchObject({ code: 'NO_QUOTE', statusCode: 422, error: expect.any(String) });
  });

  it('5 honest contributors around 89,500; a sixth account at the edge of the guard, by any number of records and trades, moves it by at most 1%', async () => {
    await h.honest(3, [89_300, 89_500, 89_700]); // with the two above: five honest contributors
    const before = await h.rate();
    expect(before.contributors.usd_to_lbp).toBe(5);
    const base = before.usd_to_lbp ?? NaN;
    const attacker = await createUser(t, 'mover');
    const accomplice = await createUser(t, 'accomplice');
    // the edge: the highest rate the guard still accepts from this account
    let edge = 0;
    for (const pct of [19.9, 15, 10, 7, 5.5, 5, 4.9, 4.5, 4]) {
      const r = base * (1 + pct / 100);
      if ((await h.record(attacker, 1000, r)).statusCode === 201) {
        edge = r;
        break;
      }
    }
    expect(edge).toBeGreaterThan(base * 1.03);
    // many records at the edge, big and small (at least the dust limit), and trades made at it
    for (let i = 0; i < 40; i++)
      expect((await h.record(attacker, i % 2 ? 10 : 50_000, edge)).statusCode).toBe(201);
    for (let i = 0; i < 5; i++) {
      const offer = await t.request('POST', '/market/offers', {
        token: attacker.access,
        body: {
          give_currency: 'USD',
          give_amount: 1000,
          want_currency: 'LBP',
          want_amount: Math.round(1000 * edge),
        },
      });
      expect(offer.statusCode).toBe(201);
      const take = await t.request('POST', `/market/offers/${offer.json<{ id: number }>().id}/accept`, {
        token: accomplice.access,
      });
      expect(take.statusCode).toBe(201);
    }
    const after = await h.rate();
    expect(after.contributors.usd_to_lbp).toBe(6);
    expect(Math.abs((after.usd_to_lbp ?? NaN) - base) / base).toBeLessThanOrEqual(0.01);
    // and nothing the account did beyond the edge was accepted
    const beyond = await h.record(attacker, 1000, base * 1.25);
    expect(beyond.statusCode).toBe(422);
    expect(beyond.json().code).toBe('RATE_OUTLIER');
  });
});

describe('dust cannot widen the outlier band', () => {
  let t: TestApp;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp(LIMITS);
  });
  afterAll(() => t.close());

  it('after 60 records of 0.01 USD at ±19% from two accounts, +25%, +50% and +95% are all refused; the rate moves < 1%', async () => {
    const honest = [await createUser(t), await createUser(t), await createUser(t)];
    for (let i = 0; i < 30; i++) {
      const res = await h.record(honest[i % 3], 100, 90_000 + ((i * 37) % 400) - 200);
      expect(res.statusCode).toBe(201);
    }
    const before = (await h.rate()).usd_to_lbp ?? NaN;
    expect(Math.abs(before - 90_000)).toBeLessThan(200);
    for (const sign of [1, -1]) {
      const duster = await createUser(t, 'dust');
      for (let i = 0; i < 60; i++) {
        const res = await h.record(duster, 0.01, 90_000 * (1 + (sign * 0.19 * (i + 1)) / 60));
        expect([201, 422]).toContain(res.statusCode);
      }
    }
    const third = await createUser(t, 'push');
    for (const pct of [25, 50, 95]) {
      const res = await h.record(third, 100, 90_000 * (1 + pct / 100));
      expect({ pct, status: res.statusCode, code: res.json().code }).toEqual({
        pct,
        status: 422,
        code: 'RATE_OUTLIER',
      });
    }
    const after = (await h.rate()).usd_to_lbp ?? NaN;
    expect(Math.abs(after - before) / before).toBeLessThan(0.01);
  });
});

describe('the outlier baseline follows this instance’s commits (default cache settings)', () => {
  let t: TestApp;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp({ TRANSACTION_RATE_LIMIT: '1000000' });
    expect(t.config.rates.baselineCacheSeconds).toBe(5);
  });
  afterAll(() => t.close());

  it('six records, then a 3x record within the second: 422 RATE_OUTLIER', async () => {
    const [a, b, c, d] = [await createUser(t), await createUser(t), await createUser(t), await createUser(t)];
    // the first read of the baseline (empty) happens before any record, and stays "fresh" for 5 s
    expect((await h.record(d, 100, 89_500)).statusCode).toBe(201);
    const started = Date.now();
    for (const [u, r] of [
      [a, 89_400],
      [b, 89_500],
      [c, 89_600],
      [a, 89_450],
      [b, 89_550],
      [c, 89_500],
    ] as const)
      expect((await h.record(u, 100, r)).statusCode).toBe(201);
    const res = await h.record(d, 100, 268_500);
    expect(Date.now() - started).toBeLessThan(5000); // well inside the cache's 5 s
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'RATE_OUTLIER', statusCode: 422 });
  });
});

describe('quotes and conversions', () => {
  let t: TestApp;
  let admin: TestUser;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp({
      ...LIMITS,
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '100000000',
      HOUSE_SPREAD_PERCENT: '1.5',
      QUOTE_TTL_SECONDS: '30',
      HOUSE_MAX_NET_USD: '5000',
      QUOTE_REFERENCE_MAX_AGE_MINUTES: '60',
    });
    admin = await createAdmin(t);
    await h.honest(3, [89_000, 90_000, 91_000]); // reference 90,000 for usd_to_lbp, none for lbp_to_usd
  });
  afterAll(() => {
    jest.restoreAllMocks();
    return t.close();
  });

  it('a quote is the mid minus (bid) or plus (ask) the spread, rounded down to the cent, exactly', async () => {
    const u = await createUser(t);
    const sell = (await h.quote(u, 'USD', 123.45)).json<Quote>();
    expect(sell).toMatchObject({
      from_currency: 'USD',
      to_currency: 'LBP',
      from_amount: 123.45,
      reference_rate: 90_000,
      rate: 88_650, // 90,000 × 0.985
      spread_percent: 1.5,
      to_amount: 10_943_842.5, // 123.45 × 88,650 exactly
    });
    const buy = (await h.quote(u, 'LBP', 1_000_000)).json<Quote>();
    expect(buy).toMatchObject({ rate: 91_350, to_amount: 10.94 }); // 1,000,000 / 91,350 = 10.9469… down to the cent
    const ttl = new Date(sell.expires_at).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('20 simultaneous converts of one quote: exactly one 201, the rest 409 QUOTE_USED, money moved once', async () => {
    const u = await createUser(t);
    const q = (await h.quote(u, 'USD', 100)).json<Quote>();
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.convert(u, q.id)));
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, ...Array(19).fill(409)]);
    for (const r of answers.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('QUOTE_USED');
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 900, lbp_balance: 100_000_000 + q.to_amount });
    expect((await t.request('GET', '/wallet/conversions', { token: u.access })).json()).toHaveLength(1);
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('an Idempotency-Key replay returns the same conversion; another user’s quote is 404; a short balance is 422 and leaves the quote usable', async () => {
    const u = await createUser(t);
    const q = (await h.quote(u, 'USD', 10)).json<Quote>();
    const first = await h.convert(u, q.id, 'conv-key-1');
    const again = await h.convert(u, q.id, 'conv-key-1');
    expect([first.statusCode, again.statusCode]).toEqual([201, 201]);
    expect(again.body).toBe(first.body);
    const other = await createUser(t);
    expect((await h.convert(other, q.id)).json()).toMatchObject({ statusCode: 404, code: 'QUOTE_NOT_FOUND' });
    const big = (await h.quote(u, 'USD', 2000)).json<Quote>();
    const short = await h.convert(u, big.id);
    expect(short.json()).toMatchObject({ statusCode: 422, code: 'INSUFFICIENT_BALANCE' });
    const before = await h.wallet(u);
    expect(before.usd_balance).toBe(990);
    // nothing was used: a deposit later, the same quote converts
    const dep = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'USD', amount: 1500 },
    });
    const ok = await t.request('POST', `/admin/deposits/${dep.json<{ id: number }>().id}/confirm`, {
      token: admin.access,
    });
    expect(ok.statusCode).toBe(200);
    expect((await h.convert(u, big.id)).statusCode).toBe(201);
  });

  it('an expired quote is 409 QUOTE_EXPIRED and moves nothing', async () => {
    const u = await createUser(t);
    const q = (await h.quote(u, 'USD', 10)).json<Quote>();
    const later = new Date(new Date(q.expires_at).getTime() + 1);
    jest.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(later));
    try {
      expect((await h.convert(u, q.id)).json()).toMatchObject({ statusCode: 409, code: 'QUOTE_EXPIRED' });
    } finally {
      jest.restoreAllMocks();
    }
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 1000, lbp_balance: 100_000_000 });
  });

  it('the house’s net position stays within HOUSE_MAX_NET_USD; a conversion that reduces it is fine', async () => {
    const positions = (await h.house(admin)).net_position;
    expect(Math.abs(positions.usd)).toBeLessThan(5000);
    const users = [
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
    ];
    let refused: Res | null = null;
    for (const u of users) {
      const q = (await h.quote(u, 'USD', 1000)).json<Quote>();
      const res = await h.convert(u, q.id);
      if (res.statusCode !== 201) {
        refused = res;
        break;
      }
    }
    expect(refused?.json()).toMatchObject({ statusCode: 422, code: 'HOUSE_LIMIT' });
    const state = await h.house(admin);
    expect(state.net_position.usd).toBeLessThanOrEqual(5000);
    // the other way round shrinks the house's USD position: allowed
    const back = (await h.quote(users[0], 'LBP', 1_000_000)).json<Quote>();
    expect((await h.convert(users[0], back.id)).statusCode).toBe(201);
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('GET /admin/house reports the reference, bid, ask and conversions of 24 h', async () => {
    const s = await h.house(admin);
    expect(s).toMatchObject({
      reference_rate: 90_000,
      bid: 88_650,
      ask: 91_350,
      spread_percent: 1.5,
      limit_usd: 5000,
    });
    expect(s.conversions_24h).toBeGreaterThanOrEqual(5);
  });

  it('no quote on a stale reference (its newest sample older than QUOTE_REFERENCE_MAX_AGE_MINUTES)', async () => {
    const u = await createUser(t);
    jest
      .spyOn(t.app.get(Clock), 'now')
      .mockImplementation(
        () => new Date(Date.now() + t.config.house.referenceMaxAgeMinutes * 60_000 + 60_000),
      );
    try {
      const res = await h.quote(u, 'USD', 10);
      // the window still holds the samples (72 h), but the newest is too old to trade on
      expect(res.json()).toMatchObject({ statusCode: 422, code: 'NO_QUOTE' });
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('conversions are not rate samples', async () => {
    const [{ n }] = await t.app
      .get(DataSource)
      .query<{ n: number | string }[]>(
        "SELECT COUNT(*) AS n FROM rate_samples WHERE source NOT IN ('transaction')",
      );
    expect(Number(n)).toBe(0);
  });
});

describe('deposits and withdrawals', () => {
  let t: TestApp;
  let admin: TestUser;
  let admin2: TestUser;
  const h = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp({
      ...LIMITS,
      DEPOSIT_DAILY_LIMIT_USD: '1000',
      WITHDRAWAL_DAILY_LIMIT_USD: '600',
    });
    admin = await createAdmin(t);
    admin2 = await createAdmin(t);
  });
  afterAll(() => t.close());

  const deposit = (u: TestUser, amount: number, currency = 'USD') =>
    t.request('POST', '/wallet/deposits', { token: u.access, body: { currency, amount, reference: 'ref' } });
  const withdraw = (u: TestUser, amount: number) =>
    t.request('POST', '/wallet/withdrawals', {
      token: u.access,
      body: { currency: 'USD', amount, destination: 'agent 12' },
    });

  it('a deposit is PENDING until an admin confirms it (credited from funding, the user notified)', async () => {
    const u = await createUser(t);
    const res = await deposit(u, 250);
    expect(res.statusCode).toBe(201);
    const d = res.json<{ id: number }>();
    expect(res.json()).toEqual({
      id: d.id,
      user_id: u.id,
      currency: 'USD',
      amount: 250,
      reference: 'ref',
      status: 'PENDING',
      note: null,
      decided_at: null,
      created_at: expect.stringMatching(/Z$/),
    });
    expect((await h.wallet(u)).usd_balance).toBe(0);
    const ok = await t.request('POST', `/admin/deposits/${d.id}/confirm`, {
      token: admin.access,
      body: { note: 'received at the agent' },
    });
    expect(ok.json()).toMatchObject({
      status: 'COMPLETED',
      note: 'received at the agent',
      decided_at: expect.any(String),
    });
    expect((await h.wallet(u)).usd_balance).toBe(250);
    const notes = (await t.request('GET', '/notifications', { token: u.access })).json<
      { event_type: string; ref_id: number }[]
    >();
    expect(notes).toEqual([expect.objectContaining({ event_type: 'DEPOSIT_COMPLETED', ref_id: d.id })]);
    const ledger = (await t.request('GET', '/wallet/ledger', { token: u.access })).json<
      { kind: string; amount: number }[]
    >();
    expect(ledger).toEqual([expect.objectContaining({ kind: 'DEPOSIT_COMPLETE', amount: 250 })]);
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('two admins confirming one deposit at the same moment: credited once, the other 409', async () => {
    const u = await createUser(t);
    const d = (await deposit(u, 100)).json<{ id: number }>();
    const [x, y] = await Promise.all([
      t.request('POST', `/admin/deposits/${d.id}/confirm`, { token: admin.access }),
      t.request('POST', `/admin/deposits/${d.id}/confirm`, { token: admin2.access }),
    ]);
    expect([x.statusCode, y.statusCode].sort()).toEqual([200, 409]);
    expect([x, y].find((r) => r.statusCode === 409)?.json().code).toBe('NOT_PENDING');
    expect((await h.wallet(u)).usd_balance).toBe(100);
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('a rejected deposit credits nothing; an admin cannot decide on their own request', async () => {
    const u = await createUser(t);
    const d = (await deposit(u, 100)).json<{ id: number }>();
    expect(
      (await t.request('POST', `/admin/deposits/${d.id}/reject`, { token: admin.access })).json(),
    ).toMatchObject({
      status: 'REJECTED',
    });
    expect((await h.wallet(u)).usd_balance).toBe(0);
    const own = (await deposit(admin, 100)).json<{ id: number }>();
    const self = await t.request('POST', `/admin/deposits/${own.id}/confirm`, { token: admin.access });
    expect(self.json()).toMatchObject({ statusCode: 403, code: 'SELF_MODIFICATION_FORBIDDEN' });
    expect(
      (await t.request('POST', `/admin/deposits/${own.id}/confirm`, { token: admin2.access })).statusCode,
    ).toBe(200);
  });

  it('the daily limit counts pending and completed deposits of the UTC day (422 LIMIT_EXCEEDED); LBP without a reference is 422 NO_QUOTE', async () => {
    const u = await createUser(t);
    expect((await deposit(u, 600)).statusCode).toBe(201);
    const over = await deposit(u, 400.01);
    expect(over.json()).toMatchObject({
      statusCode: 422,
      code: 'LIMIT_EXCEEDED',
      details: [{ field: 'amount' }],
    });
    const second = await deposit(u, 400);
    expect(second.statusCode).toBe(201);
    expect((await deposit(u, 1)).statusCode).toBe(422);
    // cancelled (and rejected) ones do not count
    const id = second.json<{ id: number }>().id;
    expect((await t.request('DELETE', `/wallet/deposits/${id}`, { token: u.access })).statusCode).toBe(200);
    expect((await deposit(u, 1)).statusCode).toBe(201);
    const lbp = await deposit(u, 1000, 'LBP');
    expect(lbp.json()).toMatchObject({ statusCode: 422, code: 'NO_QUOTE' });
  });

  it('a withdrawal holds its amount at once; complete pays it out, reject and cancel release it', async () => {
    const u = await createUser(t);
    const d = (await deposit(u, 900)).json<{ id: number }>();
    await t.request('POST', `/admin/deposits/${d.id}/confirm`, { token: admin.access });
    const w1 = (await withdraw(u, 100)).json<{ id: number; status: string }>();
    expect(w1.status).toBe('PENDING');
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 800, usd_held: 100 });
    const w2 = (await withdraw(u, 200)).json<{ id: number }>();
    const w3 = (await withdraw(u, 300)).json<{ id: number }>();
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 300, usd_held: 600 });
    expect((await withdraw(u, 1)).json()).toMatchObject({ statusCode: 422, code: 'LIMIT_EXCEEDED' });
    expect(
      (await t.request('POST', `/admin/withdrawals/${w1.id}/complete`, { token: admin.access })).statusCode,
    ).toBe(200);
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 300, usd_held: 500 });
    expect(
      (await t.request('POST', `/admin/withdrawals/${w2.id}/reject`, { token: admin.access })).statusCode,
    ).toBe(200);
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 500, usd_held: 300 });
    expect(
      (await t.request('DELETE', `/wallet/withdrawals/${w3.id}`, { token: u.access })).json(),
    ).toMatchObject({
      status: 'CANCELLED',
    });
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 800, usd_held: 0 });
    // settled: nothing moves twice
    expect(
      (await t.request('DELETE', `/wallet/withdrawals/${w3.id}`, { token: u.access })).json(),
    ).toMatchObject({
      statusCode: 409,
      code: 'NOT_PENDING',
    });
    expect(
      (await t.request('POST', `/admin/withdrawals/${w1.id}/reject`, { token: admin.access })).statusCode,
    ).toBe(409);
    const mine = (await t.request('GET', '/wallet/withdrawals', { token: u.access })).json<
      { id: number; status: string }[]
    >();
    expect(mine.map((w) => [w.id, w.status])).toEqual([
      [w3.id, 'CANCELLED'],
      [w2.id, 'REJECTED'],
      [w1.id, 'COMPLETED'],
    ]);
    const admins = await t.request('GET', `/admin/withdrawals?user_id=${u.id}&status=COMPLETED`, {
      token: admin.access,
    });
    expect(admins.json<{ id: number }[]>().map((w) => w.id)).toEqual([w1.id]);
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('50 concurrent withdrawals over one balance never overdraw', async () => {
    const u = await createUser(t);
    const d = (await deposit(u, 500)).json<{ id: number }>();
    await t.request('POST', `/admin/deposits/${d.id}/confirm`, { token: admin.access });
    const answers = await Promise.all(Array.from({ length: 50 }, () => withdraw(u, 30)));
    const ok = answers.filter((r) => r.statusCode === 201).length;
    expect(ok).toBe(16); // 16 × 30 = 480 ≤ 500 (and ≤ the 600 daily limit)
    for (const r of answers.filter((x) => x.statusCode !== 201))
      expect(r.json()).toMatchObject({ statusCode: 422, code: 'INSUFFICIENT_BALANCE' });
    expect(await h.wallet(u)).toMatchObject({ usd_balance: 20, usd_held: 480 });
    expect((await h.verify(admin)).ok).toBe(true);
  });

  it('someone else’s request is 404 to the user; every refusal is audited and changes nothing', async () => {
    const u = await createUser(t);
    const v = await createUser(t);
    const d = (await deposit(u, 10)).json<{ id: number }>();
    const before = await h.wallet(u);
    const ledgerCount = async () =>
      Number((await t.request('GET', '/wallet/ledger', { token: u.access })).headers['x-total-count']);
    const entries = await ledgerCount();
    const refusals: [TestUser, string, string, Res, number, string][] = [
      [
        v,
        'DELETE',
        `/wallet/deposits/${d.id}`,
        await t.request('DELETE', `/wallet/deposits/${d.id}`, { token: v.access }),
        404,
        'DEPOSIT_NOT_FOUND',
      ],
      [u, 'POST', '/wallet/withdrawals', await withdraw(u, 1), 422, 'INSUFFICIENT_BALANCE'],
      [u, 'POST', '/wallet/deposits', await deposit(u, -5), 400, 'VALIDATION_FAILED'],
      [u, 'POST', '/wallet/convert', await h.convert(u, 999_999), 404, 'QUOTE_NOT_FOUND'],
      [
        u,
        'POST',
        `/admin/deposits/${d.id}/confirm`,
        await t.request('POST', `/admin/deposits/${d.id}/confirm`, { token: u.access }),
        403,
        'FORBIDDEN_ROLE',
      ],
    ];
    for (const [who, method, path, res, status, code] of refusals) {
      expect({ path, body: res.json() }).toEqual({
        path,
        body: expect.objectContaining({ statusCode: status, code, error: expect.any(String) }),
      });
      const [{ n }] = await t.app
        .get(DataSource)
        .query<{ n: number | string }[]>(
          'SELECT COUNT(*) AS n FROM audit_logs WHERE success = 0 AND actor_user_id = ? AND path = ? AND http_method = ? AND status_code = ?',
          [who.id, path, method, status],
        );
      expect({ path, audited: Number(n) }).toEqual({ path, audited: 1 });
    }
    expect(await h.wallet(u)).toEqual(before);
    expect(await ledgerCount()).toBe(entries);
    expect((await t.request('GET', `/wallet/deposits`, { token: u.access })).json()).toEqual([
      expect.objectContaining({ id: d.id, status: 'PENDING' }),
    ]);
  });
});
