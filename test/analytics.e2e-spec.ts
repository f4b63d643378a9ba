import { Between, DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { toMajor } from '../src/common/money';
import { TransactionRunner } from '../src/database/transaction-runner';
import type { Verdict } from '../src/rates/outlier-detector';
import { type Direction, RateSampleEntity } from '../src/rates/rate-sample.entity';
import { RatesService } from '../src/rates/rates.service';
import { createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(300_000);

const DIRS: Direction[] = ['usd_to_lbp', 'lbp_to_usd'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A sample as the test knows it: the brute-force computations below work on this list only. */
interface Seeded {
  id: number;
  direction: Direction;
  rate: number;
  volume: bigint;
  userId: number | null;
  at: Date;
  outlier: boolean;
  entity: RateSampleEntity;
}

interface NewSeed {
  direction: Direction;
  rate: number;
  volume: bigint;
  userId: number | null;
  at: string | Date;
  outlier?: boolean;
}

interface Analytics {
  from: string;
  to: string;
  direction: Direction;
  scope: string;
  total_transactions: number;
  min_rate: number;
  max_rate: number;
  avg_rate: number;
  vwap: number;
  first_rate: number;
  last_rate: number;
  percentage_change: number;
}

interface Point {
  t: string;
  rate: number;
  count: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume_usd: number;
}

interface History {
  bucket: 'hour' | 'day';
  direction: Direction;
  scope: string;
  from: string;
  to: string;
  points: Point[];
}

/** The verdict record() is given, so which samples are outliers is decided by the test. */
const verdict = (outlier: boolean): Verdict => ({
  isOutlier: outlier,
  deviationPercent: outlier ? 200 : 0,
  score: outlier ? 99 : 0,
  reason: outlier ? 'planted by the test' : null,
  baseline: { count: 0, contributors: 0, median: null, mad: null, windowHours: 72 },
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** What the server does with from/to query values: a bare `to` date includes that whole day. */
/**
 * The brute force's own reading of a bound: a zone-less date-time (datetime-local) is UTC, and an
 * end bound covers the last unit written (day, minute or second; a fraction is an instant).
 */
const zoned = (v: string): Date => new Date(/(Z|[+-]\d{2}:\d{2})$/.test(v) ? v : `${v}Z`);
function parseFrom(v: string): Date {
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00.000Z`) : zoned(v);
}
function parseTo(v: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return new Date(new Date(`${v}T00:00:00.000Z`).getTime() + DAY - 1);
  const span = /T\d{2}:\d{2}(Z|[+-]|$)/.test(v) ? 60_000 : /:\d{2}:\d{2}(Z|[+-]|$)/.test(v) ? 1000 : 1;
  return new Date(zoned(v).getTime() + span - 1);
}

interface Filter {
  direction: Direction;
  from: Date;
  to: Date;
  userId?: number;
}

function accepted(all: Seeded[], f: Filter): Seeded[] {
  return all
    .filter(
      (s) =>
        !s.outlier &&
        s.direction === f.direction &&
        s.at.getTime() >= f.from.getTime() &&
        s.at.getTime() <= f.to.getTime() &&
        (f.userId === undefined || s.userId === f.userId),
    )
    .sort((a, b) => a.at.getTime() - b.at.getTime() || a.id - b.id);
}

/** The contract's reference rate by brute force: each account once (its VWAP, dust left out), each feed sample once. */
const MIN_CONTRIBUTORS = 2;
function bruteReference(list: Seeded[]): {
  rate: number | null;
  contributors: number;
  samples: number;
  newest: Date | null;
} {
  const accounts = new Map<number, { volume: number; rv: number }>();
  const values: number[] = [];
  let samples = 0;
  let newest: Date | null = null;
  for (const s of list) {
    if (s.userId !== null && s.volume < 1000n) continue; // an account's dust (< 10 USD)
    samples += 1;
    if (!newest || s.at > newest) newest = s.at;
    if (s.userId === null) values.push(s.rate);
    else {
      const a = accounts.get(s.userId) ?? { volume: 0, rv: 0 };
      a.volume += Number(s.volume);
      a.rv += s.rate * Number(s.volume);
      accounts.set(s.userId, a);
    }
  }
  for (const a of accounts.values()) values.push(a.rv / a.volume);
  values.sort((x, y) => x - y);
  const n = values.length;
  const median = n === 0 ? null : n % 2 === 1 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {
    rate: n >= MIN_CONTRIBUTORS && median !== null ? round6(median) : null,
    contributors: n,
    samples,
    newest,
  };
}

interface Stats {
  count: number;
  min: number;
  max: number;
  avg: number;
  vwap: number;
  first: number;
  last: number;
  change: number;
  volume: bigint;
  newest: Date;
}

function stats(list: Seeded[]): Stats | null {
  if (list.length === 0) return null;
  const rates = list.map((s) => s.rate);
  const volume = list.reduce((acc, s) => acc + s.volume, 0n);
  const rv = list.reduce((acc, s) => acc + s.rate * Number(s.volume), 0);
  const first = list[0].rate;
  const last = list[list.length - 1].rate;
  return {
    count: list.length,
    min: Math.min(...rates),
    max: Math.max(...rates),
    avg: rates.reduce((a, b) => a + b, 0) / list.length,
    vwap: rv / Number(volume),
    first,
    last,
    change: ((last - first) / first) * 100,
    volume,
    newest: list[list.length - 1].at,
  };
}

function bucketOf(at: Date, bucket: 'hour' | 'day'): string {
  const d = new Date(at.getTime());
  if (bucket === 'hour') d.setUTCMinutes(0, 0, 0);
  else d.setUTCHours(0, 0, 0, 0);
  return d.toISOString();
}

function bruteHistory(list: Seeded[], bucket: 'hour' | 'day'): { t: string; s: Stats }[] {
  const groups = new Map<string, Seeded[]>();
  for (const s of list) {
    const k = bucketOf(s.at, bucket);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([t, g]) => ({ t, s: stats(g) as Stats }));
}

/** Rates are rounded to 6 decimals by the API; sums in another order may differ in the last bits. */
function expectRate(actual: number, expected: number, what: string): void {
  if (Math.abs(actual - round6(expected)) > 2e-6) {
    throw new Error(`${what}: got ${actual}, expected ${round6(expected)} (${expected})`);
  }
  expect(Number.isFinite(actual) && Math.round(actual * 1e6) / 1e6 === actual).toBe(true);
}

function expectAnalytics(a: Analytics, s: Stats, what: string): void {
  expect({ what, count: a.total_transactions }).toEqual({ what, count: s.count });
  expectRate(a.min_rate, s.min, `${what} min_rate`);
  expectRate(a.max_rate, s.max, `${what} max_rate`);
  expectRate(a.avg_rate, s.avg, `${what} avg_rate`);
  expectRate(a.vwap, s.vwap, `${what} vwap`);
  expectRate(a.first_rate, s.first, `${what} first_rate`);
  expectRate(a.last_rate, s.last, `${what} last_rate`);
  expectRate(a.percentage_change, s.change, `${what} percentage_change`);
}

function expectPoints(points: Point[], brute: { t: string; s: Stats }[], what: string): void {
  expect({ what, t: points.map((p) => p.t) }).toEqual({ what, t: brute.map((b) => b.t) });
  points.forEach((p, i) => {
    const s = brute[i].s;
    const w = `${what} @${p.t}`;
    expect({ w, count: p.count, volume: p.volume_usd }).toEqual({
      w,
      count: s.count,
      volume: toMajor(s.volume),
    });
    expectRate(p.rate, s.vwap, `${w} rate`);
    expectRate(p.open, s.first, `${w} open`);
    expectRate(p.close, s.last, `${w} close`);
    expectRate(p.high, s.max, `${w} high`);
    expectRate(p.low, s.min, `${w} low`);
  });
}

describe('market rate, analytics and history', () => {
  let t: TestApp;
  let a: TestUser;
  let b: TestUser;
  const samples: Seeded[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      OUTLIER_BASELINE_CACHE_SECONDS: '0',
      TRANSACTION_RATE_LIMIT: '100000',
      MARKET_RATE_WINDOW_HOURS: '24',
      RATE_MIN_CONTRIBUTORS: String(MIN_CONTRIBUTORS),
    });
    a = await createUser(t, 'ana');
    b = await createUser(t, 'anb');
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  /** Records samples through RatesService.record (so the hourly rollup is maintained as in production). */
  async function seed(rows: NewSeed[]): Promise<Seeded[]> {
    const rates = t.app.get(RatesService);
    const out = await t.app.get(TransactionRunner).run(async (m) => {
      const done: Seeded[] = [];
      for (const r of rows) {
        const at = typeof r.at === 'string' ? new Date(r.at) : r.at;
        const entity = await rates.record(
          {
            direction: r.direction,
            rate: r.rate,
            source: r.userId === null ? 'feed' : 'transaction',
            usdVolume: r.volume,
            userId: r.userId,
            createdAt: at,
          },
          m,
          verdict(r.outlier ?? false),
        );
        done.push({
          id: entity.id,
          direction: r.direction,
          rate: r.rate,
          volume: r.volume,
          userId: r.userId,
          at,
          outlier: r.outlier ?? false,
          entity,
        });
      }
      return done;
    });
    samples.push(...out);
    return out;
  }

  const get = (url: string, user?: TestUser): Promise<Res> => t.request('GET', url, { token: user?.access });

  const mockNow = (iso: string): void => {
    jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(iso));
  };

  it('GET /exchangeRate is public and all null on an empty database', async () => {
    expect(await t.app.get(DataSource).getRepository(RateSampleEntity).count()).toBe(0);
    const res = await get('/exchangeRate');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      usd_to_lbp: null,
      lbp_to_usd: null,
      window_hours: 24,
      samples: { usd_to_lbp: 0, lbp_to_usd: 0 },
      contributors: { usd_to_lbp: 0, lbp_to_usd: 0 },
      updated_at: null,
      official: null,
      gap_percent: { usd_to_lbp: null, lbp_to_usd: null },
    });
  });

  describe('against a brute-force computation over the same samples', () => {
    beforeAll(async () => {
      const rnd = prng(20250310);
      const rows: NewSeed[] = [];
      const start = Date.parse('2025-03-08T00:00:00.000Z');
      const users = (): number | null => [a.id, b.id, null][Math.floor(rnd() * 3)];
      const volume = (): bigint => BigInt(1 + Math.floor(rnd() * 500_000));
      for (let i = 0; i < 360; i++) {
        const direction = DIRS[i % 2];
        const base = direction === 'usd_to_lbp' ? 89_500 : 89_900;
        const outlier = rnd() < 0.1;
        const rate = Math.round((base + (rnd() - 0.5) * 2000) * 100) / 100;
        rows.push({
          direction,
          rate: outlier ? rate * 3 : rate,
          volume: volume(),
          userId: users(),
          at: new Date(start + Math.floor(rnd() * 4 * DAY)),
          outlier,
        });
      }
      // Bucket edges: UTC midnight, hh:00:00.000 and hh:59:59.999, for both directions and users.
      const edges: [string, number, number | null, boolean?][] = [
        ['2025-03-09T23:59:59.999Z', 89_100, a.id],
        ['2025-03-10T00:00:00.000Z', 89_200, b.id],
        ['2025-03-10T00:00:00.000Z', 89_250, a.id],
        ['2025-03-10T00:00:00.000Z', 269_000, a.id, true],
        ['2025-03-10T09:00:00.000Z', 268_000, a.id, true],
        ['2025-03-10T09:00:00.000Z', 89_300, b.id],
        ['2025-03-10T09:59:59.999Z', 89_350, a.id],
        ['2025-03-10T09:59:59.999Z', 267_000, b.id, true],
        ['2025-03-10T10:00:00.000Z', 89_400, a.id],
        ['2025-03-10T10:00:00.000Z', 89_450, null],
        ['2025-03-10T10:30:00.000Z', 89_500, b.id],
        ['2025-03-10T10:59:59.999Z', 89_550, a.id],
        ['2025-03-10T11:00:00.000Z', 89_600, b.id],
        ['2025-03-10T23:59:59.999Z', 89_700, null],
        ['2025-03-11T00:00:00.000Z', 89_800, a.id],
        ['2025-03-11T10:59:59.998Z', 89_900, b.id],
        ['2025-03-11T10:59:59.999Z', 90_000, a.id],
      ];
      for (const direction of DIRS) {
        for (const [at, rate, userId, outlier] of edges) {
          rows.push({
            direction,
            rate: direction === 'usd_to_lbp' ? rate : rate + 400,
            volume: volume(),
            userId,
            at,
            outlier,
          });
        }
      }
      // Insertion order is not time order (ids and times disagree), as with imports.
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      await seed(rows);
    });

    const RANGES: [string, string][] = [
      ['2025-03-07', '2025-03-12'],
      ['2025-03-10', '2025-03-10'],
      ['2025-03-09T10:30:00.000Z', '2025-03-10T10:59:59.999Z'],
      ['2025-03-09T23:59:59.999Z', '2025-03-10T00:00:00.000Z'],
      ['2025-03-10T00:00:00.000Z', '2025-03-10T00:00:00.000Z'],
      ['2025-03-10T10:15:00.000Z', '2025-03-10T10:45:00.000Z'],
      ['2025-03-10T10:59:59.999Z', '2025-03-10T11:00:00.000Z'],
      ['2025-03-10T10:00:00.001Z', '2025-03-11T10:59:59.998Z'],
      ['2025-03-10T09:00:00.000Z', '2025-03-10T10:00:00.000Z'],
      ['2025-03-10T12:30:00+02:00', '2025-03-11T05:20:00.500Z'],
      ['2025-03-09T09:30:00.000Z', '2025-03-09T11:29:59.999Z'],
      ['2025-03-08T00:00:00.000Z', '2025-03-10T23:59:59.999Z'],
      // what a browser's datetime-local input sends: minutes, no zone (UTC)
      ['2025-03-09T10:30', '2025-03-10T10:59'],
      ['2025-03-10T00:00', '2025-03-11T10:59:59.998'],
    ];

    type Caller = { scope: 'market' | 'mine'; user: () => TestUser };
    const CALLERS: Caller[] = [
      { scope: 'market', user: () => a },
      { scope: 'mine', user: () => a },
      { scope: 'mine', user: () => b },
    ];

    async function compareAll(ranges: [string, string][]): Promise<number> {
      let nonEmpty = 0;
      for (const [fromQ, toQ] of ranges) {
        const from = parseFrom(fromQ);
        const to = parseTo(toQ);
        for (const direction of DIRS) {
          for (const c of CALLERS) {
            const user = c.user();
            const f: Filter = { direction, from, to, userId: c.scope === 'mine' ? user.id : undefined };
            const list = accepted(samples, f);
            const what = `${c.scope}/${user.userName} ${direction} [${fromQ}, ${toQ}]`;
            const qs = `direction=${direction}&from=${encodeURIComponent(fromQ)}&to=${encodeURIComponent(toQ)}&scope=${c.scope}`;

            const an = await get(`/analytics/exchange-rate?${qs}`, user);
            const s = stats(list);
            if (s === null) {
              expect({ what, status: an.statusCode, code: an.json().code }).toEqual({
                what,
                status: 404,
                code: 'NO_DATA',
              });
            } else {
              nonEmpty++;
              expect({ what, status: an.statusCode }).toEqual({ what, status: 200 });
              const body = an.json<Analytics>();
              expect(body).toMatchObject({
                from: from.toISOString(),
                to: to.toISOString(),
                direction,
                scope: c.scope,
              });
              expectAnalytics(body, s, what);
            }

            for (const bucket of ['hour', 'day'] as const) {
              const h = await get(`/history/exchange-rate?${qs}&bucket=${bucket}`, user);
              expect({ what, bucket, status: h.statusCode }).toEqual({ what, bucket, status: 200 });
              const body = h.json<History>();
              expect(body).toMatchObject({
                bucket,
                direction,
                scope: c.scope,
                from: from.toISOString(),
                to: to.toISOString(),
              });
              expectPoints(body.points, bruteHistory(list, bucket), `${what} ${bucket}`);
            }
          }
        }
      }
      return nonEmpty;
    }

    it('analytics and hour/day history agree with the brute force, edges and cut hours included', async () => {
      const nonEmpty = await compareAll(RANGES);
      expect(nonEmpty).toBeGreaterThan(40);
    });

    it('the UTC-midnight edge: a bare date covers exactly that day', async () => {
      const res = await get(
        '/history/exchange-rate?direction=usd_to_lbp&from=2025-03-10&to=2025-03-10&bucket=day',
        a,
      );
      const points = res.json<History>().points;
      expect(points.map((p) => p.t)).toEqual(['2025-03-10T00:00:00.000Z']);
      // The 23:59:59.999 sample of the 9th is out, the two accepted midnight samples are in (tie by id).
      const midnight = accepted(samples, {
        direction: 'usd_to_lbp',
        from: new Date('2025-03-10T00:00:00.000Z'),
        to: new Date('2025-03-10T00:00:00.000Z'),
      });
      expect(midnight.map((s) => s.rate).sort()).toEqual([89_200, 89_250]);
      expect(points[0].open).toBe(midnight[0].rate);
      const hours = await get(
        '/history/exchange-rate?direction=usd_to_lbp&from=2025-03-09T23:00:00.000Z&to=2025-03-10T00:59:59.999Z&bucket=hour',
        a,
      );
      const ts = hours.json<History>().points.map((p) => p.t);
      expect(ts[0]).toBe('2025-03-09T23:00:00.000Z');
      expect(ts).toContain('2025-03-10T00:00:00.000Z');
    });

    it('outliers are left out, also when they would be the open, close or extreme of a bucket', async () => {
      const res = await get(
        '/history/exchange-rate?direction=usd_to_lbp&from=2025-03-10T09:00:00.000Z&to=2025-03-10T09:59:59.999Z&bucket=hour&scope=market',
        a,
      );
      const points = res.json<History>().points;
      expect(points).toHaveLength(1);
      expect(points[0].high).toBeLessThan(100_000);
      const edge = accepted(samples, {
        direction: 'usd_to_lbp',
        from: new Date('2025-03-10T09:00:00.000Z'),
        to: new Date('2025-03-10T09:00:00.000Z'),
      });
      expect(edge.map((s) => s.rate)).toEqual([89_300]);
      expect(points[0].open).toBe(89_300);
    });

    it('stays in agreement after admins flip outlier marks (the rollup hours are rebuilt)', async () => {
      const rates = t.app.get(RatesService);
      const runner = t.app.get(TransactionRunner);
      const flips = [
        // the accepted open of 10:00 becomes an outlier, the planted 09:00 outlier is accepted
        samples.find(
          (s) =>
            s.direction === 'usd_to_lbp' && s.at.toISOString() === '2025-03-10T10:00:00.000Z' && !s.outlier,
        ),
        samples.find(
          (s) =>
            s.direction === 'usd_to_lbp' && s.at.toISOString() === '2025-03-10T09:00:00.000Z' && s.outlier,
        ),
        samples.find(
          (s) =>
            s.direction === 'lbp_to_usd' && s.at.toISOString() === '2025-03-10T00:00:00.000Z' && s.outlier,
        ),
      ];
      for (const s of flips) {
        if (!s) throw new Error('seed sample not found');
        await runner.run((m) => rates.setOutlier(s.entity, !s.outlier, 'test flip', m));
        s.outlier = !s.outlier;
      }
      await compareAll([
        ['2025-03-10', '2025-03-10'],
        ['2025-03-10T09:00:00.000Z', '2025-03-10T10:00:00.000Z'],
        ['2025-03-09T10:30:00.000Z', '2025-03-10T10:59:59.999Z'],
      ]);
      const res = await get(
        '/analytics/exchange-rate?direction=usd_to_lbp&from=2025-03-10T09:00:00.000Z&to=2025-03-10T09:00:00.000Z',
        a,
      );
      expect(res.json<Analytics>().max_rate).toBe(268_000);
    });

    it('market figures read whole hours from the rollup, and a cut hour from it only when it holds every sample of the hour', async () => {
      const ds = t.app.get(DataSource);
      const bucket = t.db === 'sqlite' ? '2025-03-10 10:00:00.000' : new Date('2025-03-10T10:00:00.000Z');
      const count = async (from: string, to: string, scope = 'market'): Promise<number> =>
        (
          await get(`/analytics/exchange-rate?direction=usd_to_lbp&from=${from}&to=${to}&scope=${scope}`, a)
        ).json<Analytics>().total_transactions;
      const inHour = await ds.getRepository(RateSampleEntity).find({
        where: {
          direction: 'usd_to_lbp',
          isOutlier: false,
          createdAt: Between(new Date('2025-03-10T10:00:00.000Z'), new Date('2025-03-10T10:59:59.999Z')),
        },
        order: { createdAt: 'DESC' },
      });
      expect(inHour.length).toBeGreaterThan(1);
      const last = inHour[0].createdAt.getTime();
      const iso = (ms: number) => new Date(ms).toISOString();
      const whole = ['2025-03-10T10:00:00.000Z', '2025-03-10T10:59:59.999Z'] as const;
      // ends at the hour's last sample: every sample of the hour is inside, so the rollup answers
      const covering = ['2025-03-10T10:00:00.000Z', iso(last)] as const;
      // ends just before it: the rollup would count a sample outside the range, so raw samples answer
      const cut = ['2025-03-10T10:00:00.000Z', iso(last - 1)] as const;
      const before = [
        await count(...whole),
        await count(...covering),
        await count(...cut),
        await count(...whole, 'mine'),
      ];
      expect(before[1]).toBe(before[0]);
      expect(before[2]).toBeLessThan(before[1]);
      // a marker in one of the hour's rollup rows shows which source answered
      const [{ s: shard }] = await ds.query<{ s: number }[]>(
        'SELECT MIN(shard) AS s FROM rate_hourly WHERE direction = ? AND bucket_start = ?',
        ['usd_to_lbp', bucket],
      );
      const bump = (n: number) =>
        ds.query(
          'UPDATE rate_hourly SET sample_count = sample_count + ? WHERE direction = ? AND bucket_start = ? AND shard = ?',
          [n, 'usd_to_lbp', bucket, shard],
        );
      await bump(1000);
      try {
        expect([
          await count(...whole),
          await count(...covering),
          await count(...cut),
          await count(...whole, 'mine'),
        ]).toEqual([before[0] + 1000, before[1] + 1000, before[2], before[3]]);
      } finally {
        await bump(-1000);
      }
      expect(await count(...whole)).toBe(before[0]);
    });

    it('empty ranges: analytics 404 NO_DATA, history points: []', async () => {
      const an = await get('/analytics/exchange-rate?direction=lbp_to_usd&from=2026-01-01&to=2026-01-31', a);
      expect(an.statusCode).toBe(404);
      expect(an.json()).toMatchObject({ code: 'NO_DATA', statusCode: 404, error: expect.any(String) });
      const h = await get(
        '/history/exchange-rate?direction=lbp_to_usd&from=2026-01-01&to=2026-01-31&bucket=day',
        a,
      );
      expect(h.statusCode).toBe(200);
      expect(h.json()).toEqual({
        bucket: 'day',
        direction: 'lbp_to_usd',
        scope: 'market',
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-31T23:59:59.999Z',
        points: [],
      });
      // Someone else's samples are not "mine": a user without samples has no data at all.
      const c = await createUser(t, 'anc');
      const mine = await get(
        '/analytics/exchange-rate?direction=usd_to_lbp&from=2025-03-01&to=2025-03-31&scope=mine',
        c,
      );
      expect(mine.statusCode).toBe(404);
      const market = await get(
        '/analytics/exchange-rate?direction=usd_to_lbp&from=2025-03-01&to=2025-03-31',
        c,
      );
      expect(market.statusCode).toBe(200);
    });

    it('defaults come from the preferences: range = last default_range_hours, bucket = default_bucket', async () => {
      const c = await createUser(t, 'pref');
      const now = '2025-03-11T06:30:00.000Z';
      mockNow(now);
      try {
        const check = async (
          hours: number,
          bucket: 'hour' | 'day',
          user: TestUser,
          scope: 'market' | 'mine',
        ) => {
          const to = new Date(now);
          const from = new Date(to.getTime() - hours * HOUR);
          for (const direction of DIRS) {
            const list = accepted(samples, {
              direction,
              from,
              to,
              userId: scope === 'mine' ? user.id : undefined,
            });
            const an = await get(`/analytics/exchange-rate?direction=${direction}&scope=${scope}`, user);
            const s = stats(list);
            if (s === null) {
              expect(an.statusCode).toBe(404);
            } else {
              expect(an.statusCode).toBe(200);
              expect(an.json()).toMatchObject({ from: from.toISOString(), to: now });
              expectAnalytics(an.json<Analytics>(), s, `defaults ${hours}h ${direction}`);
            }
            const h = await get(`/history/exchange-rate?direction=${direction}&scope=${scope}`, user);
            expect(h.statusCode).toBe(200);
            const body = h.json<History>();
            expect(body).toMatchObject({ bucket, from: from.toISOString(), to: now });
            expectPoints(
              body.points,
              bruteHistory(list, bucket),
              `defaults ${hours}h ${bucket} ${direction}`,
            );
          }
        };
        // Fresh user: 72 h, hourly.
        await check(72, 'hour', c, 'market');
        const put = await t.request('PUT', '/preferences', {
          token: c.access,
          body: { default_range_hours: 30, default_bucket: 'day' },
        });
        expect(put.statusCode).toBe(200);
        await check(30, 'day', c, 'market');
        // An explicit bucket wins over the preference; an explicit range wins too.
        const explicit = await get('/history/exchange-rate?direction=usd_to_lbp&bucket=hour', c);
        expect(explicit.json<History>().bucket).toBe('hour');
        const ranged = await get(
          '/history/exchange-rate?direction=usd_to_lbp&from=2025-03-10&to=2025-03-10',
          c,
        );
        expect(ranged.json<History>()).toMatchObject({ bucket: 'day', from: '2025-03-10T00:00:00.000Z' });
        // Another user's preferences are their own.
        const pb = await t.request('PUT', '/preferences', {
          token: b.access,
          body: { default_range_hours: 5 },
        });
        expect(pb.statusCode).toBe(200);
        await check(5, 'hour', b, 'mine');
        await check(30, 'day', c, 'market');
      } finally {
        jest.restoreAllMocks();
      }
    });

    it('GET /exchangeRate matches the brute-force reference (median over contributors) of the window', async () => {
      for (const now of [
        '2025-03-11T06:30:00.000Z',
        '2025-03-10T10:59:59.999Z',
        '2025-03-10T00:00:00.000Z',
      ]) {
        mockNow(now);
        try {
          const to = new Date(now);
          const from = new Date(to.getTime() - 24 * HOUR);
          const res = await get('/exchangeRate');
          expect(res.statusCode).toBe(200);
          const body = res.json<{
            usd_to_lbp: number | null;
            lbp_to_usd: number | null;
            window_hours: number;
            samples: Record<Direction, number>;
            contributors: Record<Direction, number>;
            updated_at: string | null;
          }>();
          expect(body.window_hours).toBe(24);
          let newest: Date | null = null;
          for (const direction of DIRS) {
            const r = bruteReference(accepted(samples, { direction, from, to }));
            expect(r.contributors).toBeGreaterThan(MIN_CONTRIBUTORS);
            expect(body.samples[direction]).toBe(r.samples);
            expect(body.contributors[direction]).toBe(r.contributors);
            expectRate(body[direction] ?? NaN, r.rate ?? NaN, `exchangeRate ${direction} @${now}`);
            if (!newest || (r.newest && r.newest > newest)) newest = r.newest;
          }
          expect(body.updated_at).toBe(newest?.toISOString());
        } finally {
          jest.restoreAllMocks();
        }
      }
    });
  });

  it('GET /exchangeRate: each account once, outliers and dust excluded, the window respected as "now" moves', async () => {
    const T = Date.parse('2025-06-01T12:00:00.000Z');
    const at = (ms: number): Date => new Date(T + ms);
    await seed([
      { direction: 'usd_to_lbp', rate: 89_000, volume: 10_000n, userId: a.id, at: at(-HOUR) },
      { direction: 'usd_to_lbp', rate: 90_000, volume: 30_000n, userId: b.id, at: at(-24 * HOUR) },
      { direction: 'usd_to_lbp', rate: 80_000, volume: 50_000n, userId: b.id, at: at(-24 * HOUR - 1) },
      {
        direction: 'usd_to_lbp',
        rate: 270_000,
        volume: 100_000n,
        userId: null,
        at: at(-HOUR / 2),
        outlier: true,
      },
      // dust: 9.99 USD from a third account counts for nothing
      { direction: 'usd_to_lbp', rate: 200_000, volume: 999n, userId: b.id + 1, at: at(-HOUR) },
      { direction: 'usd_to_lbp', rate: 91_000, volume: 10_000n, userId: a.id, at: at(1) },
    ]);
    mockNow(new Date(T).toISOString());
    try {
      const res = await get('/exchangeRate');
      expect(res.json()).toEqual({
        usd_to_lbp: 89_500, // the median of a (89,000) and b (90,000), whatever their volumes
        lbp_to_usd: null,
        window_hours: 24,
        samples: { usd_to_lbp: 2, lbp_to_usd: 0 },
        contributors: { usd_to_lbp: 2, lbp_to_usd: 0 },
        updated_at: at(-HOUR).toISOString(),
        official: null,
        gap_percent: { usd_to_lbp: null, lbp_to_usd: null },
      });
      mockNow(at(23 * HOUR).toISOString());
      // only a is left in the window: one contributor publishes nothing
      expect((await get('/exchangeRate')).json()).toEqual({
        usd_to_lbp: null,
        lbp_to_usd: null,
        window_hours: 24,
        samples: { usd_to_lbp: 2, lbp_to_usd: 0 },
        contributors: { usd_to_lbp: 1, lbp_to_usd: 0 },
        updated_at: at(1).toISOString(),
        official: null,
        gap_percent: { usd_to_lbp: null, lbp_to_usd: null },
      });
      mockNow(at(48 * HOUR).toISOString());
      expect((await get('/exchangeRate')).json()).toMatchObject({ usd_to_lbp: null, updated_at: null });
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('samples recorded by POST /transaction show up in the market figures and in scope=mine', async () => {
    // On the main app: a second app in one process would replace the global passport strategy.
    const u = await createUser(t, 'tx');
    const v = await createUser(t, 'tv');
    // Samples at a fixed time (sessions are opened in real time above: they must not look expired).
    mockNow('2025-09-01T12:00:00.000Z');
    try {
      const post = (w: TestUser, usd: number, lbp: number, usdToLbp: boolean) =>
        t.request('POST', '/transaction', {
          token: w.access,
          body: { usd_amount: usd, lbp_amount: lbp, usd_to_lbp: usdToLbp },
        });
      expect((await post(u, 10, 895_000, true)).statusCode).toBe(201);
      expect((await post(u, 30, 2_700_000, true)).statusCode).toBe(201);
      expect((await post(v, 20, 1_800_000, true)).statusCode).toBe(201);
      expect((await post(v, 50, 4_500_000, false)).statusCode).toBe(201);
      const market = (await t.request('GET', '/exchangeRate')).json();
      // u counts once at its volume-weighted 89,875, v at 90,000: the median of the two
      expect(market).toMatchObject({
        usd_to_lbp: 89_937.5,
        lbp_to_usd: null, // one contributor
        samples: { usd_to_lbp: 3, lbp_to_usd: 1 },
        contributors: { usd_to_lbp: 2, lbp_to_usd: 1 },
      });
      const mine = await t.request('GET', '/analytics/exchange-rate?direction=usd_to_lbp&scope=mine', {
        token: u.access,
      });
      expect(mine.json()).toMatchObject({
        total_transactions: 2,
        first_rate: 89_500,
        last_rate: 90_000,
        avg_rate: 89_750,
        vwap: 89_875,
        percentage_change: 0.558659,
      });
      const hist = await t.request('GET', '/history/exchange-rate?direction=usd_to_lbp&bucket=day', {
        token: v.access,
      });
      expect(hist.json<History>().points).toEqual([
        expect.objectContaining({
          count: 3,
          volume_usd: 60,
          open: 89_500,
          close: 90_000,
          high: 90_000,
          low: 89_500,
        }),
      ]);
      expect(hist.json<History>().points[0].t).toBe('2025-09-01T00:00:00.000Z');
    } finally {
      jest.restoreAllMocks();
    }
  });

  describe('validation', () => {
    it.each([
      ['', 'direction'],
      ['direction=sideways', 'direction'],
      ['direction=usd_to_lbp&scope=everyone', 'scope'],
      ['direction=usd_to_lbp&from=2025-03-01', 'to'],
      ['direction=usd_to_lbp&to=2025-03-01', 'from'],
      ['direction=usd_to_lbp&from=2025-03-02&to=2025-03-01', 'from'],
      ['direction=usd_to_lbp&from=2025-03-01T10:00:00.001Z&to=2025-03-01T10:00:00.000Z', 'from'],
      ['direction=usd_to_lbp&from=2024-01-01&to=2025-01-01', 'to'],
      ['direction=usd_to_lbp&from=2025-02-30&to=2025-03-01', 'from'],
      ['direction=usd_to_lbp&from=yesterday&to=2025-03-01', 'from'],
      ['direction=usd_to_lbp&from=2026-13-40T99:99&to=2026-12-05T21:46', 'from'],
      ['direction=usd_to_lbp&from=2026-12-02T21:46&to=2026-12-05%2021:46', 'to'],
      ['direction=usd_to_lbp&color=red', 'color'],
    ])('400 VALIDATION_FAILED for "%s" naming %s (analytics and history)', async (qs, field) => {
      for (const path of ['/analytics/exchange-rate', '/history/exchange-rate']) {
        const res = await get(`${path}?${qs}`, a);
        expect({ path, status: res.statusCode }).toEqual({ path, status: 400 });
        const body = res.json<{ code: string; details: { field: string }[]; error: string }>();
        expect(body.code).toBe('VALIDATION_FAILED');
        expect(body.details.map((d) => d.field)).toContain(field);
      }
    });

    it('400 for an unknown bucket', async () => {
      const res = await get('/history/exchange-rate?direction=usd_to_lbp&bucket=week', a);
      expect(res.statusCode).toBe(400);
      expect(res.json().details.map((d: { field: string }) => d.field)).toContain('bucket');
    });

    it('366 days is the longest range (a leap year by bare dates is fine)', async () => {
      const an = await get('/analytics/exchange-rate?direction=usd_to_lbp&from=2024-01-01&to=2024-12-31', a);
      expect(an.statusCode).toBe(404);
      const h = await get(
        '/history/exchange-rate?direction=usd_to_lbp&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z',
        a,
      );
      expect(h.statusCode).toBe(400);
      const ok = await get(
        '/history/exchange-rate?direction=usd_to_lbp&from=2024-01-01T00:00:00Z&to=2024-12-31T23:59:59.999Z',
        a,
      );
      expect(ok.statusCode).toBe(200);
    });

    it('analytics and history need an access token; /exchangeRate does not', async () => {
      expect((await get('/analytics/exchange-rate?direction=usd_to_lbp')).statusCode).toBe(401);
      expect((await get('/history/exchange-rate?direction=usd_to_lbp')).statusCode).toBe(401);
      expect((await get('/exchangeRate')).statusCode).toBe(200);
    });
  });
});
