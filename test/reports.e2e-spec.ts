import { TransactionRunner } from '../src/database/transaction-runner';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { RatesService } from '../src/rates/rates.service';
import { WalletEntity } from '../src/wallet/wallet.entity';
import { createAdmin, login, type TestUser, uniqueName } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(300_000);

/*
 * Every figure of the three report routes is compared with a brute-force computation over what this
 * suite created (users, transactions, marketplace offers and trades, planted outlier samples), placed
 * in time with the Clock.
 */

type Bucket = 'hour' | 'day';
type Currency = 'USD' | 'LBP';

/** A settled take, as the test computed it (and checked against the accept response). */
interface Trade {
  buyer: number;
  seller: number;
  maker: number;
  taker: number;
  /** Minor units. */
  usd: bigint;
  lbp: bigint;
  at: Date;
}

/** The test's model of an offer (minor units). */
interface Offer {
  id: number;
  maker: number;
  give: Currency;
  remGive: bigint;
  remWant: bigint;
  open: boolean;
  expiresAt: Date | null;
}

interface UserTrades {
  count: number;
  as_buyer: number;
  as_seller: number;
  as_maker: number;
  as_taker: number;
  usd_volume: number;
  lbp_volume: number;
  avg_rate: number | null;
  vwap: number | null;
  min_rate: number | null;
  max_rate: number | null;
}

interface OpenOffers {
  count: number;
  past_expiry: number;
  usd: { count: number; escrow: number };
  lbp: { count: number; escrow: number };
}

interface BucketTrades {
  count: number;
  usd_volume: number;
  lbp_volume: number;
  avg_rate: number | null;
  vwap: number | null;
}

interface Tx {
  id: number;
  userId: number;
  /** Minor units. */
  usd: bigint;
  lbp: bigint;
  usdToLbp: boolean;
  at: Date;
}

interface Direction {
  count: number;
  usd_volume: number;
  lbp_volume: number;
  avg_rate: number | null;
  vwap: number | null;
  min_rate: number | null;
  max_rate: number | null;
}

interface UserReport {
  from: string | null;
  to: string | null;
  user_id: number;
  directions: { usd_to_lbp: Direction; lbp_to_usd: Direction };
  total_transactions: number;
  busiest_day: { date: string; count: number } | null;
  balances: { usd_balance: number; lbp_balance: number; usd_held: number; lbp_held: number };
  trades: UserTrades;
  open_offers: OpenOffers;
  generated_at: string;
}

interface BucketRow {
  t: string;
  transactions: { count: number; usd_volume: number; lbp_volume: number; avg_rate: number | null };
  trades: BucketTrades;
  new_users: number;
  outliers_flagged: number;
}

interface PlatformReport {
  from: string;
  to: string;
  bucket: Bucket;
  buckets: BucketRow[];
  totals: {
    transactions: number;
    usd_volume: number;
    lbp_volume: number;
    new_users: number;
    outliers_flagged: number;
    trades: number;
    trade_usd_volume: number;
    trade_lbp_volume: number;
    trade_vwap: number | null;
  };
  escrow: { usd_held: number; lbp_held: number };
  open_offers: OpenOffers;
  generated_at: string;
}

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = 86_400_000;

/** Minor units to the JSON number a client writes / reads (decimal text, never float arithmetic). */
function major(minor: bigint): number {
  const neg = minor < 0n;
  const abs = neg ? -minor : minor;
  const n = Number(`${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`);
  return neg ? -n : n;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const rateOf = (x: { usd: bigint; lbp: bigint }): number => Number(x.lbp) / Number(x.usd);
const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** lbp / usd (both minor units) rounded half up to 6 decimals, in integers: exact, whatever the size. */
function exactVwap(lbp: bigint, usd: bigint): number | null {
  if (usd === 0n) return null;
  const micro = (lbp * 2_000_000n + usd) / (2n * usd);
  return Number(`${micro / 1_000_000n}.${(micro % 1_000_000n).toString().padStart(6, '0')}`);
}

function expectedTrades(xs: Trade[], userId: number): UserTrades {
  const usd = sum(xs.map((x) => x.usd));
  const lbp = sum(xs.map((x) => x.lbp));
  const rates = xs.map(rateOf);
  const empty = xs.length === 0;
  return {
    count: xs.length,
    as_buyer: xs.filter((x) => x.buyer === userId).length,
    as_seller: xs.filter((x) => x.seller === userId).length,
    as_maker: xs.filter((x) => x.maker === userId).length,
    as_taker: xs.filter((x) => x.taker === userId).length,
    usd_volume: major(usd),
    lbp_volume: major(lbp),
    avg_rate: empty ? null : round6(mean(rates)),
    vwap: exactVwap(lbp, usd),
    min_rate: empty ? null : round6(Math.min(...rates)),
    max_rate: empty ? null : round6(Math.max(...rates)),
  };
}

function expectedBucketTrades(xs: Trade[]): BucketTrades {
  const usd = sum(xs.map((x) => x.usd));
  const lbp = sum(xs.map((x) => x.lbp));
  return {
    count: xs.length,
    usd_volume: major(usd),
    lbp_volume: major(lbp),
    avg_rate: xs.length === 0 ? null : round6(mean(xs.map(rateOf))),
    vwap: exactVwap(lbp, usd),
  };
}

function bucketStart(d: Date, bucket: Bucket): number {
  return Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate(),
    bucket === 'hour' ? d.getUTCHours() : 0,
  );
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectedDirection(xs: Tx[]): Direction {
  if (xs.length === 0) {
    return {
      count: 0,
      usd_volume: 0,
      lbp_volume: 0,
      avg_rate: null,
      vwap: null,
      min_rate: null,
      max_rate: null,
    };
  }
  const rates = xs.map(rateOf);
  const usd = sum(xs.map((x) => x.usd));
  const lbp = sum(xs.map((x) => x.lbp));
  return {
    count: xs.length,
    usd_volume: major(usd),
    lbp_volume: major(lbp),
    avg_rate: round6(rates.reduce((a, b) => a + b, 0) / rates.length),
    vwap: round6(Number(lbp) / Number(usd)),
    min_rate: round6(Math.min(...rates)),
    max_rate: round6(Math.max(...rates)),
  };
}

/** Float figures (averages) may differ in the last bits between SQL and JS; everything else is exact. */
function expectRate(actual: number | null, expected: number | null): void {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 5);
}

function expectDirectionEqual(actual: Direction, expected: Direction): void {
  expect({ ...actual, avg_rate: 0, vwap: 0 }).toEqual({ ...expected, avg_rate: 0, vwap: 0 });
  expectRate(actual.avg_rate, expected.avg_rate);
  expectRate(actual.vwap, expected.vwap);
}

describe('reports', () => {
  let t: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let whale: TestUser;
  let dave: TestUser;
  let erin: TestUser;
  let tina: TestUser;
  let tom: TestUser;
  const txs: Tx[] = [];
  const trades: Trade[] = [];
  const offers = new Map<number, Offer>();
  const userCreated: Date[] = [];
  const outlierTimes: Date[] = [];

  /** Runs fn with the app's Clock at `iso` (tokens keep being checked against real time). */
  async function at<T>(iso: string | Date, fn: () => Promise<T>): Promise<T> {
    const spy = jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(iso));
    try {
      return await fn();
    } finally {
      spy.mockRestore();
    }
  }

  /** Registers at a given time; logs in at real time, so the tokens are valid now. */
  async function register(prefix: string, iso: string): Promise<TestUser> {
    const userName = uniqueName(prefix);
    const password = 'correct-horse-1';
    const res = await at(iso, () => t.request('POST', '/user', { body: { user_name: userName, password } }));
    expect(res.statusCode).toBe(201);
    const body = res.json<{ id: number; created_at: string }>();
    expect(body.created_at).toBe(new Date(iso).toISOString());
    userCreated.push(new Date(body.created_at));
    return { id: body.id, userName, password, ...(await login(t, userName, password)) };
  }

  async function exchange(u: TestUser, usd: bigint, lbp: bigint, usdToLbp: boolean, iso: string) {
    const res = await at(iso, () =>
      t.request('POST', '/transaction', {
        token: u.access,
        body: { usd_amount: major(usd), lbp_amount: major(lbp), usd_to_lbp: usdToLbp },
      }),
    );
    if (res.statusCode !== 201)
      throw new Error(`transaction refused at ${iso}: ${res.statusCode} ${res.body}`);
    const body = res.json<{ id: number; created_at: string }>();
    expect(body.created_at).toBe(new Date(iso).toISOString());
    txs.push({ id: body.id, userId: u.id, usd, lbp, usdToLbp, at: new Date(iso) });
  }

  /**
   * POST /market/offers at a given time (amounts in minor units); the model keeps its remainders. The
   * offered rates stay near the market, so the outlier guard lets them through.
   */
  async function makeOffer(
    u: TestUser,
    give: Currency,
    giveAmount: bigint,
    wantAmount: bigint,
    iso: string,
    opts: { minFill?: bigint; expiresInHours?: number } = {},
  ): Promise<number> {
    const body: Record<string, unknown> = {
      give_currency: give,
      give_amount: major(giveAmount),
      want_currency: give === 'USD' ? 'LBP' : 'USD',
      want_amount: major(wantAmount),
    };
    if (opts.minFill !== undefined) body.min_fill_amount = major(opts.minFill);
    if (opts.expiresInHours !== undefined) body.expires_in_hours = opts.expiresInHours;
    const res = await at(iso, () => t.request('POST', '/market/offers', { token: u.access, body }));
    if (res.statusCode !== 201) throw new Error(`offer refused at ${iso}: ${res.statusCode} ${res.body}`);
    const id = res.json<{ id: number }>().id;
    const expiresAt = opts.expiresInHours
      ? new Date(Date.parse(iso) + opts.expiresInHours * 3_600_000)
      : null;
    offers.set(id, {
      id,
      maker: u.id,
      give,
      remGive: giveAmount,
      remWant: wantAmount,
      open: true,
      expiresAt,
    });
    return id;
  }

  /**
   * POST /market/offers/:id/accept at a given time: the taker takes `amount` of the give side (default
   * all) and pays its share of the remaining want side, rounded half up; the whole remainder pays all.
   */
  async function take(u: TestUser, offerId: number, iso: string, amount?: bigint): Promise<void> {
    const o = offers.get(offerId);
    if (!o) throw new Error(`unknown offer ${offerId}`);
    const fill = amount ?? o.remGive;
    const pay = fill === o.remGive ? o.remWant : (2n * fill * o.remWant + o.remGive) / (2n * o.remGive);
    const res = await at(iso, () =>
      t.request('POST', `/market/offers/${offerId}/accept`, {
        token: u.access,
        body: amount === undefined ? undefined : { amount: major(amount) },
      }),
    );
    if (res.statusCode !== 201) throw new Error(`take refused at ${iso}: ${res.statusCode} ${res.body}`);
    const [usd, lbp] = o.give === 'USD' ? [fill, pay] : [pay, fill];
    const trade = res.json<{ trade: { usd_amount: number; lbp_amount: number; created_at: string } }>().trade;
    expect(trade).toMatchObject({ usd_amount: major(usd), lbp_amount: major(lbp), created_at: iso });
    trades.push({
      buyer: o.give === 'USD' ? u.id : o.maker,
      seller: o.give === 'USD' ? o.maker : u.id,
      maker: o.maker,
      taker: u.id,
      usd,
      lbp,
      at: new Date(iso),
    });
    o.remGive -= fill;
    o.remWant -= pay;
    o.open = o.remGive > 0n;
  }

  async function cancelOffer(u: TestUser, offerId: number, iso: string): Promise<void> {
    const res = await at(iso, () => t.request('DELETE', `/market/offers/${offerId}`, { token: u.access }));
    expect(res.statusCode).toBe(200);
    const o = offers.get(offerId);
    if (o) o.open = false;
  }

  /** OPEN offers in the model (everyone's, or one maker's) as the reports show them at `now`. */
  function expectedOpenOffers(now: Date, maker?: number): OpenOffers {
    const open = [...offers.values()].filter((o) => o.open && (maker === undefined || o.maker === maker));
    const of = (c: Currency) => {
      const xs = open.filter((o) => o.give === c);
      return { count: xs.length, escrow: major(sum(xs.map((o) => o.remGive))) };
    };
    return {
      count: open.length,
      past_expiry: open.filter((o) => o.expiresAt !== null && o.expiresAt <= now).length,
      usd: of('USD'),
      lbp: of('LBP'),
    };
  }

  /** An imported sample with the verdict it got (the admin import route is not needed for this). */
  async function plantSample(iso: string, isOutlier: boolean): Promise<void> {
    const rates = t.app.get(RatesService);
    await t.app.get(TransactionRunner).run((m) =>
      rates.record(
        {
          direction: 'usd_to_lbp',
          rate: isOutlier ? 270000 : 89500,
          source: 'feed',
          usdVolume: 100n,
          createdAt: new Date(iso),
        },
        m,
        {
          isOutlier,
          deviationPercent: isOutlier ? 200 : 0,
          score: isOutlier ? 50 : 0,
          reason: isOutlier ? 'planted outlier' : null,
          baseline: { count: 10, contributors: 5, median: 89500, mad: 100, windowHours: 72 },
        },
      ),
    );
    if (isOutlier) outlierTimes.push(new Date(iso));
  }

  const get = (url: string, u?: TestUser): Promise<Res> => t.request('GET', url, { token: u?.access });

  function expectedUserReport(userId: number, from?: Date, to?: Date) {
    const mine = txs.filter((x) => x.userId === userId && (!from || x.at >= from) && (!to || x.at <= to));
    const perDay = new Map<string, number>();
    for (const x of mine) {
      const d = x.at.toISOString().slice(0, 10);
      perDay.set(d, (perDay.get(d) ?? 0) + 1);
    }
    let busiest: { date: string; count: number } | null = null;
    for (const [date, count] of [...perDay.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (!busiest || count > busiest.count) busiest = { date, count };
    }
    const myTrades = trades.filter(
      (x) => (x.buyer === userId || x.seller === userId) && (!from || x.at >= from) && (!to || x.at <= to),
    );
    return {
      usd_to_lbp: expectedDirection(mine.filter((x) => x.usdToLbp)),
      lbp_to_usd: expectedDirection(mine.filter((x) => !x.usdToLbp)),
      total_transactions: mine.length,
      busiest_day: busiest,
      trades: expectedTrades(myTrades, userId),
    };
  }

  async function checkUserReport(u: TestUser, query: string, from?: Date, to?: Date): Promise<UserReport> {
    const res = await get(`/reports/summary${query}`, u);
    expect(res.statusCode).toBe(200);
    const r = res.json<UserReport>();
    const exp = expectedUserReport(u.id, from, to);
    expect(r.user_id).toBe(u.id);
    expect(r.from).toBe(from ? from.toISOString() : null);
    expect(r.to).toBe(to ? to.toISOString() : null);
    expectDirectionEqual(r.directions.usd_to_lbp, exp.usd_to_lbp);
    expectDirectionEqual(r.directions.lbp_to_usd, exp.lbp_to_usd);
    expect(r.total_transactions).toBe(exp.total_transactions);
    expect(r.busiest_day).toEqual(exp.busiest_day);
    expect({ ...r.trades, avg_rate: 0 }).toEqual({ ...exp.trades, avg_rate: 0 });
    expectRate(r.trades.avg_rate, exp.trades.avg_rate);
    expect(r.open_offers).toEqual(expectedOpenOffers(new Date(r.generated_at), u.id));
    expect(r.generated_at).toMatch(ISO_Z);
    const wallet = (await get('/wallet', u)).json();
    expect(r.balances).toEqual(wallet);
    return r;
  }

  async function expectedEscrow(): Promise<{ usd_held: number; lbp_held: number }> {
    const wallets = await t.app.get(DataSource).getRepository(WalletEntity).find();
    return {
      usd_held: major(sum(wallets.map((w) => w.usdHeld))),
      lbp_held: major(sum(wallets.map((w) => w.lbpHeld))),
    };
  }

  function expectedBuckets(from: Date, to: Date, bucket: Bucket) {
    const inRange = (d: Date) => d >= from && d <= to;
    const rows = new Map<number, { txs: Tx[]; trades: Trade[]; newUsers: number; outliers: number }>();
    const row = (d: Date) => {
      const k = bucketStart(d, bucket);
      let r = rows.get(k);
      if (!r) rows.set(k, (r = { txs: [], trades: [], newUsers: 0, outliers: 0 }));
      return r;
    };
    for (const x of txs.filter((x) => inRange(x.at))) row(x.at).txs.push(x);
    for (const x of trades.filter((x) => inRange(x.at))) row(x.at).trades.push(x);
    for (const d of userCreated.filter(inRange)) row(d).newUsers += 1;
    for (const d of outlierTimes.filter(inRange)) row(d).outliers += 1;
    const buckets = [...rows.entries()]
      .sort(([a], [b]) => a - b)
      .map(([k, r]) => ({
        t: new Date(k).toISOString(),
        transactions: {
          count: r.txs.length,
          usd_volume: major(sum(r.txs.map((x) => x.usd))),
          lbp_volume: major(sum(r.txs.map((x) => x.lbp))),
          avg_rate:
            r.txs.length === 0 ? null : round6(r.txs.map(rateOf).reduce((a, b) => a + b, 0) / r.txs.length),
        },
        trades: expectedBucketTrades(r.trades),
        new_users: r.newUsers,
        outliers_flagged: r.outliers,
      }));
    const all = txs.filter((x) => inRange(x.at));
    const allTrades = expectedBucketTrades(trades.filter((x) => inRange(x.at)));
    return {
      buckets,
      totals: {
        transactions: all.length,
        usd_volume: major(sum(all.map((x) => x.usd))),
        lbp_volume: major(sum(all.map((x) => x.lbp))),
        new_users: userCreated.filter(inRange).length,
        outliers_flagged: outlierTimes.filter(inRange).length,
        trades: allTrades.count,
        trade_usd_volume: allTrades.usd_volume,
        trade_lbp_volume: allTrades.lbp_volume,
        trade_vwap: allTrades.vwap,
      },
    };
  }

  async function checkPlatformReport(
    query: string,
    from: Date,
    to: Date,
    bucket: Bucket,
  ): Promise<PlatformReport> {
    const res = await get(`/admin/reports/summary${query}`, admin);
    expect(res.statusCode).toBe(200);
    const r = res.json<PlatformReport>();
    const exp = expectedBuckets(from, to, bucket);
    expect(r.from).toBe(from.toISOString());
    expect(r.to).toBe(to.toISOString());
    expect(r.bucket).toBe(bucket);
    const noAvg = (b: BucketRow) => ({
      ...b,
      transactions: { ...b.transactions, avg_rate: 0 },
      trades: { ...b.trades, avg_rate: 0 },
    });
    expect(r.buckets.map(noAvg)).toEqual(exp.buckets.map(noAvg));
    r.buckets.forEach((b, i) => {
      expectRate(b.transactions.avg_rate, exp.buckets[i].transactions.avg_rate);
      expectRate(b.trades.avg_rate, exp.buckets[i].trades.avg_rate);
    });
    expect(r.totals).toEqual(exp.totals);
    expect(r.escrow).toEqual(await expectedEscrow());
    expect(r.open_offers).toEqual(expectedOpenOffers(new Date(r.generated_at)));
    expect(r.generated_at).toMatch(ISO_Z);
    return r;
  }

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '2000000000',
      STARTING_BALANCE_LBP: '1000000000000',
      TRANSACTION_RATE_LIMIT: '100000',
      OFFER_RATE_LIMIT: '100000',
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
    });
    admin = await createAdmin(t);
    userCreated.push(new Date((await get('/whoami', admin)).json<{ created_at: string }>().created_at));

    // Registrations on both sides of UTC midnight.
    alice = await register('alice', '2025-03-01T10:00:00.000Z');
    bob = await register('bob', '2025-03-01T23:59:59.999Z');
    carol = await register('carol', '2025-03-02T00:00:00.000Z');
    whale = await register('whale', '2025-03-05T12:00:00.000Z');
    dave = await register('dave', '2025-03-06T08:00:00.000Z');
    erin = await register('erin', '2025-03-06T08:00:00.001Z');

    // Transactions exactly on the edges of UTC days and hours; 0.1 + 0.2 must sum to exactly 0.3.
    await exchange(alice, 10n, 8950n * 100n, true, '2025-03-01T23:59:59.999Z');
    await exchange(alice, 20n, 17920n * 100n, true, '2025-03-02T00:00:00.000Z');
    await exchange(alice, 1050n, 94500025n, false, '2025-03-02T00:59:59.999Z');
    await exchange(bob, 300n, 27000000n, false, '2025-03-02T01:00:00.000Z');
    await exchange(carol, 10000n, 895500000n, true, '2025-03-03T00:00:00.000Z');
    await exchange(bob, 1n, 89600n, true, '2025-03-03T23:59:59.999Z');

    // Random traffic over a week, in time order.
    const rand = prng(20250301);
    const start = Date.UTC(2025, 2, 1);
    const random = Array.from({ length: 60 }, () => {
      const who = [alice, bob, carol][Math.floor(rand() * 3)];
      const usd = BigInt(1 + Math.floor(rand() * 200_000));
      const rate = 88_000 + rand() * 3_000;
      const lbp = BigInt(Math.round(Number(usd) * rate));
      const when = new Date(start + Math.floor(rand() * 7 * DAY)).toISOString();
      return { who, usd, lbp, usdToLbp: rand() < 0.5, when };
    }).sort((a, b) => a.when.localeCompare(b.when));
    for (const x of random) await exchange(x.who, x.usd, x.lbp, x.usdToLbp, x.when);

    // Volumes past 2^53 minor units per direction: 100 sales that each bring 999,999,999,999.99 LBP,
    // each bought back at once (so the balance itself stays small).
    for (let i = 0; i < 200; i++) {
      const when = new Date(Date.UTC(2025, 2, 5, 12, 0, 0) + i * 30_000 + 1).toISOString();
      await exchange(whale, 1_117_318_436n + BigInt(i >> 1), 99_999_999_999_999n, i % 2 === 0, when);
    }

    // Busiest-day tie (2 and 2): the earliest day wins, even when its transactions came later.
    await exchange(erin, 100n, 8_950_000n, true, '2025-03-07T09:00:00.000Z');
    await exchange(erin, 100n, 8_960_000n, false, '2025-03-07T10:00:00.000Z');
    await exchange(erin, 100n, 8_940_000n, true, '2025-03-06T11:00:00.000Z');
    await exchange(erin, 100n, 8_970_000n, false, '2025-03-06T23:59:59.999Z');

    // Marketplace, after the transactions (so its rate samples cannot move their outlier verdicts).
    // A partly taken USD offer: one take just before UTC midnight, the rest exactly at it.
    const a1 = await makeOffer(alice, 'USD', 10_000n, 895_000_000n, '2025-03-01T20:00:00.000Z', {
      minFill: 1_000n,
    });
    await take(bob, a1, '2025-03-01T23:59:59.999Z', 3_000n);
    await take(carol, a1, '2025-03-02T00:00:00.000Z');
    // An LBP offer taken in part, with a pay that has to be rounded; the rest stays open (escrow).
    const c1 = await makeOffer(carol, 'LBP', 269_000_001n, 3_001n, '2025-03-02T00:30:00.000Z', {
      minFill: 100_000n,
    });
    await take(alice, c1, '2025-03-02T01:00:00.000Z', 100_000_033n);
    // Cancelled: neither a trade nor an open offer.
    const b1 = await makeOffer(bob, 'USD', 5_000n, 447_500_000n, '2025-03-03T10:00:00.000Z');
    await cancelOffer(bob, b1, '2025-03-03T11:00:00.000Z');
    // Expires an hour later, but no sweep runs here: still OPEN (and holding escrow) in the database.
    await makeOffer(alice, 'LBP', 89_500_000n, 1_000n, '2025-03-04T00:00:00.000Z', { expiresInHours: 1 });
    // Trade volumes past 2^53 minor units: 100 trades of 999,999,999,999.99 LBP, passed back and forth.
    tina = await register('tina', '2025-03-04T06:00:00.000Z');
    tom = await register('tom', '2025-03-04T06:00:00.000Z');
    for (let i = 0; i < 100; i++) {
      const [maker, taker] = i % 2 === 0 ? [tina, tom] : [tom, tina];
      const when = (s: number) => new Date(Date.UTC(2025, 2, 5, 14, 0, 0) + i * 60_000 + s).toISOString();
      const id = await makeOffer(maker, 'LBP', 99_999_999_999_999n, 1_117_318_436n + BigInt(i), when(0));
      await take(taker, id, when(30_000));
    }
    // Erin only has open offers, one each way.
    await makeOffer(erin, 'USD', 100n, 8_950_000n, '2025-03-07T12:00:00.000Z', { expiresInHours: 720 });
    await makeOffer(erin, 'LBP', 8_960_001n, 100n, '2025-03-07T12:01:00.000Z');

    // Flagged and accepted samples; only the flagged ones count as outliers.
    await plantSample('2025-03-01T23:59:59.999Z', true);
    await plantSample('2025-03-02T00:00:00.000Z', true);
    await plantSample('2025-03-02T00:30:00.000Z', false);
    await plantSample('2025-03-04T10:30:00.000Z', true);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('GET /reports/summary', () => {
    it('matches the brute-force figures for every user over all time', async () => {
      for (const u of [alice, bob, carol, whale, dave, erin, tina, tom]) await checkUserReport(u, '');
    });

    it('sums volumes exactly: 0.1 + 0.2 USD is 0.3, and LBP past 2^53 minor units stays exact', async () => {
      const r = await checkUserReport(
        alice,
        '?from=2025-03-01T23:59:59.999Z&to=2025-03-02T00:00:00.000Z',
        new Date('2025-03-01T23:59:59.999Z'),
        new Date('2025-03-02T00:00:00.000Z'),
      );
      expect(r.directions.usd_to_lbp).toMatchObject({ count: 2, usd_volume: 0.3, lbp_volume: 26870 });
      expect(r.directions.lbp_to_usd.count).toBe(0);

      const w = await checkUserReport(whale, '');
      const lbpMinor = 100n * 99_999_999_999_999n;
      expect(lbpMinor > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      for (const dir of [w.directions.usd_to_lbp, w.directions.lbp_to_usd]) {
        expect(dir.count).toBe(100);
        expect(dir.lbp_volume).toBe(major(lbpMinor));
      }
    });

    it('trades: both sides, maker and taker, exact LBP volume past 2^53 minor units, exact vwap', async () => {
      for (const u of [tina, tom]) {
        const r = await checkUserReport(u, '');
        expect(r.trades).toMatchObject({
          count: 100,
          as_buyer: 50,
          as_seller: 50,
          as_maker: 50,
          as_taker: 50,
          lbp_volume: major(100n * 99_999_999_999_999n),
        });
        expect(r.total_transactions).toBe(0);
        expect(r.open_offers).toEqual({
          count: 0,
          past_expiry: 0,
          usd: { count: 0, escrow: 0 },
          lbp: { count: 0, escrow: 0 },
        });
      }
      // alice sold USD twice through her own offer and once by taking carol's LBP offer
      const a = await checkUserReport(alice, '');
      expect(a.trades).toMatchObject({
        count: 3,
        as_buyer: 0,
        as_seller: 3,
        as_maker: 2,
        as_taker: 1,
        usd_volume: 111.16,
        lbp_volume: 9_950_000.33,
        min_rate: 89500,
        // 1,000,000.33 / 11.16
        max_rate: round6(100_000_033 / 1_116),
        vwap: exactVwap(995_000_033n, 11_116n),
      });
      expect(a.open_offers).toMatchObject({ count: 1, past_expiry: 1, lbp: { count: 1, escrow: 895_000 } });
      const c = await checkUserReport(carol, '');
      expect(c.open_offers).toEqual({
        count: 1,
        past_expiry: 0,
        usd: { count: 0, escrow: 0 },
        lbp: { count: 1, escrow: 1_689_999.68 },
      });
      const e = await checkUserReport(erin, '');
      expect(e.trades.count).toBe(0);
      expect(e.open_offers).toMatchObject({ count: 2, usd: { count: 1, escrow: 1 } });
    });

    it('trades in a range: takes at 23:59:59.999 and at midnight fall on their own days', async () => {
      const day = (x: string, end = false) => new Date(`${x}T${end ? '23:59:59.999' : '00:00:00.000'}Z`);
      const b = await checkUserReport(bob, '?to=2025-03-01', undefined, day('2025-03-01', true));
      expect(b.trades).toMatchObject({ count: 1, as_buyer: 1, as_taker: 1, usd_volume: 30 });
      const c = await checkUserReport(
        carol,
        '?from=2025-03-02&to=2025-03-02',
        day('2025-03-02'),
        day('2025-03-02', true),
      );
      expect(c.trades).toMatchObject({ count: 2, as_buyer: 2, as_maker: 1, as_taker: 1 });
      const none = await checkUserReport(
        alice,
        '?from=2025-03-02T01:00:00.001Z&to=2025-03-05T00:00:00.000Z',
        new Date('2025-03-02T01:00:00.001Z'),
        new Date('2025-03-05T00:00:00.000Z'),
      );
      expect(none.trades).toMatchObject({ count: 0, vwap: null, avg_rate: null, min_rate: null });
    });

    it('takes bare dates as whole UTC days and ISO timestamps as exact, inclusive bounds', async () => {
      const day = (d: string, end = false) => new Date(`${d}T${end ? '23:59:59.999' : '00:00:00.000'}Z`);
      for (const u of [alice, bob, carol]) {
        await checkUserReport(
          u,
          '?from=2025-03-02&to=2025-03-02',
          day('2025-03-02'),
          day('2025-03-02', true),
        );
        await checkUserReport(u, '?from=2025-03-03', day('2025-03-03'));
        await checkUserReport(u, '?to=2025-03-02', undefined, day('2025-03-02', true));
        await checkUserReport(
          u,
          '?from=2025-03-02T00:00:00.001Z&to=2025-03-03T23:59:59.998Z',
          new Date('2025-03-02T00:00:00.001Z'),
          new Date('2025-03-03T23:59:59.998Z'),
        );
      }
    });

    it('an empty range or a user without transactions: zero counts and volumes, null rates and busiest day', async () => {
      const empty = {
        count: 0,
        usd_volume: 0,
        lbp_volume: 0,
        avg_rate: null,
        vwap: null,
        min_rate: null,
        max_rate: null,
      };
      for (const [u, q] of [
        [alice, '?from=2030-01-01'],
        [dave, ''],
      ] as const) {
        const r = (await get(`/reports/summary${q}`, u)).json<UserReport>();
        expect(r.directions).toEqual({ usd_to_lbp: empty, lbp_to_usd: empty });
        expect(r.total_transactions).toBe(0);
        expect(r.busiest_day).toBeNull();
        expect(r.trades).toEqual({ ...empty, as_buyer: 0, as_seller: 0, as_maker: 0, as_taker: 0 });
      }
    });

    it("never shows another user's trades or open offers", async () => {
      const everyone = [alice, bob, carol, whale, dave, erin, tina, tom];
      const reports = await Promise.all(
        everyone.map(async (u) => (await get('/reports/summary', u)).json<UserReport>()),
      );
      // every trade has exactly two sides, both among these users
      expect(reports.reduce((a, r) => a + r.trades.count, 0)).toBe(2 * trades.length);
      expect(reports.reduce((a, r) => a + r.open_offers.count, 0)).toBe(
        [...offers.values()].filter((o) => o.open).length,
      );
    });

    it("never shows another user's transactions", async () => {
      const reports = await Promise.all(
        [alice, bob, carol, whale, dave, erin].map(async (u) => (await get('/reports/summary', u)).json()),
      );
      expect(reports.reduce((a, r: UserReport) => a + r.total_transactions, 0)).toBe(txs.length);
      for (const [i, u] of [alice, bob, carol, whale, dave, erin].entries()) {
        expect(reports[i].user_id).toBe(u.id);
        expect(reports[i].total_transactions).toBe(txs.filter((x) => x.userId === u.id).length);
      }
    });

    it('breaks a busiest-day tie by the earliest day', async () => {
      const r = await checkUserReport(erin, '');
      expect(r.busiest_day).toEqual({ date: '2025-03-06', count: 2 });
    });

    it.each([
      ['?from=2025-03-05&to=2025-03-01', 'from'],
      ['?from=2025-03-05T00:00:00.001Z&to=2025-03-05T00:00:00.000Z', 'from'],
      ['?from=yesterday', 'from'],
      ['?to=2025-02-30', 'to'],
      ['?from=2026-13-40T99:99', 'from'],
      ['?bucket=day', 'bucket'],
    ])('400 for %s naming %s', async (q, field) => {
      const res = await get(`/reports/summary${q}`, alice);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 });
      expect(res.json<{ details: { field: string }[] }>().details.map((d) => d.field)).toContain(field);
    });

    it('needs a token', async () => {
      expect((await get('/reports/summary')).statusCode).toBe(401);
    });
  });

  describe('GET /admin/stats/transactions', () => {
    const expectedStats = (now: Date) => {
      const start = new Date(now.getTime() - 72 * 3_600_000);
      const inWindow = txs.filter((x) => x.at >= start && x.at <= now);
      return {
        total_transactions_all_time: txs.length,
        total_transactions_last_72h: inWindow.length,
        usd_to_lbp_last_72h: inWindow.filter((x) => x.usdToLbp).length,
        lbp_to_usd_last_72h: inWindow.filter((x) => !x.usdToLbp).length,
        window_start: start.toISOString(),
        window_end: now.toISOString(),
      };
    };

    it.each([
      // window_start lands exactly on a transaction (inclusive)
      '2025-03-05T00:00:00.000Z',
      // window_end lands exactly on a transaction (inclusive)
      '2025-03-02T00:00:00.000Z',
      '2025-03-06T12:34:56.789Z',
      // nothing in the window
      '2025-01-01T00:00:00.000Z',
    ])('counts the 72 hours up to the clock (%s) per direction', async (now) => {
      const res = await at(now, () => get('/admin/stats/transactions', admin));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(expectedStats(new Date(now)));
    });

    it('at real time the 2025 transactions are outside the window', async () => {
      const res = await get('/admin/stats/transactions', admin);
      const b = res.json<ReturnType<typeof expectedStats>>();
      expect(b).toMatchObject({ total_transactions_all_time: txs.length, total_transactions_last_72h: 0 });
      expect(new Date(b.window_end).getTime() - new Date(b.window_start).getTime()).toBe(72 * 3_600_000);
    });
  });

  describe('GET /admin/reports/summary', () => {
    const d = (iso: string) => new Date(iso);

    it('day buckets over a week match the brute force', async () => {
      const r = await checkPlatformReport(
        '?from=2025-03-01&to=2025-03-08&bucket=day',
        d('2025-03-01T00:00:00.000Z'),
        d('2025-03-08T23:59:59.999Z'),
        'day',
      );
      expect(r.buckets.length).toBeGreaterThanOrEqual(7);
      expect(r.totals.outliers_flagged).toBe(3);
    });

    it('hour buckets split exactly at UTC midnight and on the hour', async () => {
      const r = await checkPlatformReport(
        '?from=2025-03-01T23:00:00.000Z&to=2025-03-02T01:00:00.000Z&bucket=hour',
        d('2025-03-01T23:00:00.000Z'),
        d('2025-03-02T01:00:00.000Z'),
        'hour',
      );
      const byT = new Map(r.buckets.map((b) => [b.t, b]));
      expect(byT.get('2025-03-01T23:00:00.000Z')).toMatchObject({ new_users: 1, outliers_flagged: 1 });
      expect(byT.get('2025-03-02T00:00:00.000Z')).toMatchObject({ new_users: 1, outliers_flagged: 1 });
      // the takes at 23:59:59.999, 00:00:00.000 and 01:00:00.000 each land in their own hour
      expect(byT.get('2025-03-01T23:00:00.000Z')?.trades).toMatchObject({ count: 1, usd_volume: 30 });
      expect(byT.get('2025-03-02T00:00:00.000Z')?.trades).toMatchObject({ count: 1, usd_volume: 70 });
      expect(byT.get('2025-03-02T01:00:00.000Z')?.trades).toMatchObject({
        count: 1,
        usd_volume: 11.16,
        lbp_volume: 1_000_000.33,
      });
      // only bob's 01:00:00.000 transaction falls in the last hour bucket's range
      expect(byT.get('2025-03-02T01:00:00.000Z')?.transactions.count).toBe(
        txs.filter((x) => x.at.getTime() === Date.parse('2025-03-02T01:00:00.000Z')).length,
      );
    });

    it('hour buckets over the whole week match the brute force', async () => {
      await checkPlatformReport(
        '?from=2025-02-28&to=2025-03-09&bucket=hour',
        d('2025-02-28T00:00:00.000Z'),
        d('2025-03-09T23:59:59.999Z'),
        'hour',
      );
    });

    it('trade buckets: exact volumes past 2^53 minor units, exact vwap, trade-only buckets listed', async () => {
      const r = await checkPlatformReport(
        '?from=2025-03-05T14:00:00.000Z&to=2025-03-05T15:59:59.999Z&bucket=hour',
        d('2025-03-05T14:00:00.000Z'),
        d('2025-03-05T15:59:59.999Z'),
        'hour',
      );
      const pingPong = trades.filter((x) => x.maker === tina.id || x.maker === tom.id);
      expect(r.totals).toMatchObject({
        trades: 100,
        trade_lbp_volume: major(100n * 99_999_999_999_999n),
        trade_usd_volume: major(sum(pingPong.map((x) => x.usd))),
        trade_vwap: exactVwap(100n * 99_999_999_999_999n, sum(pingPong.map((x) => x.usd))),
      });
      expect(100n * 99_999_999_999_999n > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      expect(r.buckets.map((b) => [b.t, b.trades.count])).toEqual([
        ['2025-03-05T14:00:00.000Z', 60],
        ['2025-03-05T15:00:00.000Z', 40],
      ]);
      const day = await checkPlatformReport(
        '?from=2025-03-05&to=2025-03-05',
        d('2025-03-05T00:00:00.000Z'),
        d('2025-03-05T23:59:59.999Z'),
        'day',
      );
      expect(day.buckets[0].trades.lbp_volume).toBe(major(100n * 99_999_999_999_999n));
    });

    it('a range inside days keeps only its rows; the bucket t is still the day start', async () => {
      const r = await checkPlatformReport(
        '?from=2025-03-02T12:00:00.000Z&to=2025-03-04T12:00:00.000Z',
        d('2025-03-02T12:00:00.000Z'),
        d('2025-03-04T12:00:00.000Z'),
        'day',
      );
      expect(r.buckets[0]?.t).toBe('2025-03-02T00:00:00.000Z');
    });

    it('defaults: the last 30 days up to the clock, day buckets', async () => {
      const now = d('2025-03-20T00:00:00.000Z');
      const r = await at(now, () => checkPlatformReport('', new Date(now.getTime() - 30 * DAY), now, 'day'));
      expect(r.totals.transactions).toBe(txs.length);
      expect(r.totals.trades).toBe(trades.length);
    });

    it('only from: up to the clock; only to: the 30 days before it', async () => {
      const now = d('2025-03-06T00:00:00.000Z');
      await at(now, () => checkPlatformReport('?from=2025-03-03', d('2025-03-03T00:00:00.000Z'), now, 'day'));
      const to = d('2025-03-04T23:59:59.999Z');
      await checkPlatformReport('?to=2025-03-04&bucket=hour', new Date(to.getTime() - 30 * DAY), to, 'hour');
    });

    it('an empty range: no buckets, zero totals, and the current escrow', async () => {
      const r = await checkPlatformReport(
        '?from=2024-01-01&to=2024-01-31',
        d('2024-01-01T00:00:00.000Z'),
        d('2024-01-31T23:59:59.999Z'),
        'day',
      );
      expect(r.buckets).toEqual([]);
      expect(r.totals).toEqual({
        transactions: 0,
        usd_volume: 0,
        lbp_volume: 0,
        new_users: 0,
        outliers_flagged: 0,
        trades: 0,
        trade_usd_volume: 0,
        trade_lbp_volume: 0,
        trade_vwap: null,
      });
      expect(r.buckets.flatMap((b) => b.trades.count)).toEqual([]);
      expect(r.open_offers.count).toBeGreaterThan(0);
    });

    it('accepts exactly 366 days', async () => {
      const res = await get('/admin/reports/summary?from=2024-01-01&to=2024-12-31', admin);
      expect(res.statusCode).toBe(200);
    });

    it.each([
      ['?from=2025-03-05&to=2025-03-01', 'from'],
      ['?from=2024-01-01&to=2025-01-01', 'to'],
      ['?from=2025-03-01T00:00:00.000Z&to=2026-03-02T00:00:00.001Z', 'to'],
      ['?bucket=week', 'bucket'],
      ['?from=03/01/2025', 'from'],
      ['?to=2025-13-01', 'to'],
      ['?limit=5', 'limit'],
    ])('400 for %s naming %s', async (q, field) => {
      const res = await get(`/admin/reports/summary${q}`, admin);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 });
      expect(res.json<{ details: { field: string }[] }>().details.map((x) => x.field)).toContain(field);
    });

    it('from in the future with no to is 400 (to defaults to now)', async () => {
      const res = await at('2025-03-01T00:00:00.000Z', () =>
        get('/admin/reports/summary?from=2025-03-02', admin),
      );
      expect(res.statusCode).toBe(400);
    });

    it('open offers: every OPEN offer per give currency, and their escrow is what the wallets hold', async () => {
      const r = await checkPlatformReport(
        '?from=2024-01-01&to=2024-01-31',
        d('2024-01-01T00:00:00.000Z'),
        d('2024-01-31T23:59:59.999Z'),
        'day',
      );
      // alice's expired-but-unswept LBP offer, carol's partly taken one, erin's two (at real time her
      // 30-day USD offer is past expiry too)
      expect(r.open_offers).toEqual({
        count: 4,
        past_expiry: 2,
        usd: { count: 1, escrow: 1 },
        lbp: { count: 3, escrow: major(89_500_000n + (269_000_001n - 100_000_033n) + 8_960_001n) },
      });
      expect(r.escrow).toEqual({ usd_held: r.open_offers.usd.escrow, lbp_held: r.open_offers.lbp.escrow });
    });

    it('open offers: past_expiry follows the clock (expires_at itself counts as past)', async () => {
      for (const [now, pastExpiry] of [
        ['2025-03-04T00:59:59.999Z', 0],
        ['2025-03-04T01:00:00.000Z', 1],
      ] as const) {
        const r = await at(now, () =>
          checkPlatformReport('?from=2025-03-03', d('2025-03-03T00:00:00.000Z'), d(now), 'day'),
        );
        expect(r.open_offers.past_expiry).toBe(pastExpiry);
        const mine = await at(now, () => get('/reports/summary', alice));
        expect(mine.json<UserReport>().open_offers).toEqual(expectedOpenOffers(d(now), alice.id));
        expect(mine.json<UserReport>().open_offers.past_expiry).toBe(pastExpiry);
      }
    });

    it('escrow is the current sum of every wallet held balance, exact', async () => {
      // Held balances set directly, for sums the marketplace data above does not reach. This leaves
      // held != open offers (the ledger invariant), so it runs last.
      const wallets = t.app.get(DataSource).getRepository(WalletEntity);
      await wallets.update({ userId: alice.id }, { usdHeld: 10n, lbpHeld: 99_999_999_999_999n });
      await wallets.update({ userId: bob.id }, { usdHeld: 20n, lbpHeld: 1n });
      const r = await checkPlatformReport(
        '?from=2024-01-01&to=2024-01-31',
        d('2024-01-01T00:00:00.000Z'),
        d('2024-01-31T23:59:59.999Z'),
        'day',
      );
      // plus what carol's and erin's open offers hold
      const others = [...offers.values()].filter((o) => o.open && o.maker !== alice.id && o.maker !== bob.id);
      const held = (c: Currency) => sum(others.filter((o) => o.give === c).map((o) => o.remGive));
      expect(r.escrow).toEqual({
        usd_held: major(30n + held('USD')),
        lbp_held: major(100_000_000_000_000n + held('LBP')),
      });
      const mine = await checkUserReport(alice, '');
      expect(mine.balances).toMatchObject({ usd_held: 0.1, lbp_held: 999_999_999_999.99 });
    });
  });

  describe('admin routes', () => {
    it.each(['/admin/stats/transactions', '/admin/reports/summary'])(
      '%s: 403 for a non-admin, 401 without a token',
      async (url) => {
        const forbidden = await get(url, alice);
        expect(forbidden.statusCode).toBe(403);
        expect(forbidden.json()).toMatchObject({ statusCode: 403, code: expect.any(String) });
        expect((await get(url)).statusCode).toBe(401);
      },
    );
  });
});
