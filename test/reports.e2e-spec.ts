import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { RatesService } from '../src/rates/rates.service';
import { WalletEntity } from '../src/wallet/wallet.entity';
import { createAdmin, login, type TestUser, uniqueName } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(300_000);

/*
 * Every figure of the three report routes is compared with a brute-force computation over what this
 * suite created (users, transactions, planted outlier samples), placed in time with the Clock.
 */

type Bucket = 'hour' | 'day';

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
  generated_at: string;
}

interface BucketRow {
  t: string;
  transactions: { count: number; usd_volume: number; lbp_volume: number; avg_rate: number | null };
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
  };
  escrow: { usd_held: number; lbp_held: number };
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
const rateOf = (x: Tx): number => Number(x.lbp) / Number(x.usd);
const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

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
  const txs: Tx[] = [];
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

  /** An imported sample with the verdict it got (the admin import route is not needed for this). */
  async function plantSample(iso: string, isOutlier: boolean): Promise<void> {
    const rates = t.app.get(RatesService);
    await t.app.get(DataSource).transaction((m) =>
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
          baseline: { count: 10, median: 89500, mad: 100, windowHours: 72 },
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
    return {
      usd_to_lbp: expectedDirection(mine.filter((x) => x.usdToLbp)),
      lbp_to_usd: expectedDirection(mine.filter((x) => !x.usdToLbp)),
      total_transactions: mine.length,
      busiest_day: busiest,
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
    const rows = new Map<number, { txs: Tx[]; newUsers: number; outliers: number }>();
    const row = (d: Date) => {
      const k = bucketStart(d, bucket);
      let r = rows.get(k);
      if (!r) rows.set(k, (r = { txs: [], newUsers: 0, outliers: 0 }));
      return r;
    };
    for (const x of txs.filter((x) => inRange(x.at))) row(x.at).txs.push(x);
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
        new_users: r.newUsers,
        outliers_flagged: r.outliers,
      }));
    const all = txs.filter((x) => inRange(x.at));
    return {
      buckets,
      totals: {
        transactions: all.length,
        usd_volume: major(sum(all.map((x) => x.usd))),
        lbp_volume: major(sum(all.map((x) => x.lbp))),
        new_users: userCreated.filter(inRange).length,
        outliers_flagged: outlierTimes.filter(inRange).length,
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
    const noAvg = (b: BucketRow) => ({ ...b, transactions: { ...b.transactions, avg_rate: 0 } });
    expect(r.buckets.map(noAvg)).toEqual(exp.buckets.map(noAvg));
    r.buckets.forEach((b, i) => expectRate(b.transactions.avg_rate, exp.buckets[i].transactions.avg_rate));
    expect(r.totals).toEqual(exp.totals);
    expect(r.escrow).toEqual(await expectedEscrow());
    expect(r.generated_at).toMatch(ISO_Z);
    return r;
  }

  beforeAll(async () => {
    t = await startTestApp({
      STARTING_BALANCE_USD: '2000000000',
      STARTING_BALANCE_LBP: '100000000000',
      TRANSACTION_RATE_LIMIT: '100000',
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
      for (const u of [alice, bob, carol, whale, dave, erin]) await checkUserReport(u, '');
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
      }
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
      ['?from=2025-03-01T10:00', 'from'],
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
      });
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

    it('escrow is the current sum of every wallet held balance, exact', async () => {
      // Escrow is only created by the marketplace (not built yet): set held balances directly.
      const wallets = t.app.get(DataSource).getRepository(WalletEntity);
      await wallets.update({ userId: alice.id }, { usdHeld: 10n, lbpHeld: 99_999_999_999_999n });
      await wallets.update({ userId: bob.id }, { usdHeld: 20n, lbpHeld: 1n });
      const r = await checkPlatformReport(
        '?from=2024-01-01&to=2024-01-31',
        d('2024-01-01T00:00:00.000Z'),
        d('2024-01-31T23:59:59.999Z'),
        'day',
      );
      expect(r.escrow).toEqual({ usd_held: 0.3, lbp_held: 1_000_000_000_000 });
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
