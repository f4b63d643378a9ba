import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backtest } from '../src/forecast/model';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

/**
 * Issue 24: the official rate and its gap, and forecasts with prediction intervals and an honest
 * backtest (synthetic series with known trend and noise, a series with gaps, too little history, and
 * a real parallel-market series: the Argentine blue dollar, docs/data/dolar-blue-ars.csv).
 */

jest.setTimeout(240_000);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A small deterministic PRNG and a standard normal from it. */
function normal(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    let u = 0;
    while (u === 0) u = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

interface Point {
  t: string;
  mid: number;
  low_80: number;
  high_80: number;
  low_95: number;
  high_95: number;
}

async function importRows(
  t: TestApp,
  admin: TestUser,
  rows: { direction: string; rate: number; created_at: string }[],
) {
  for (let i = 0; i < rows.length; i += 5000) {
    const res = await t.request('POST', '/admin/rates/import', {
      token: admin.access,
      body: rows.slice(i, i + 5000).map((r) => ({ ...r, usd_volume: 100 })),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().rejected).toEqual([]);
  }
}

describe('the official rate', () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ FUNDING_RATE_LIMIT: '1000' });
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  const setOfficial = (body: unknown, as = admin): Promise<Res> =>
    t.request('PUT', '/admin/rates/official', { token: as.access, body });

  it('before any is set: nulls, no gap; an LBP deposit cannot be valued without a reference', async () => {
    expect((await t.request('GET', '/exchangeRate/official')).json()).toEqual({
      usd_to_lbp: null,
      lbp_to_usd: null,
      source: null,
      effective_at: null,
      gap_percent: { usd_to_lbp: null, lbp_to_usd: null },
    });
    expect((await t.request('GET', '/exchangeRate')).json()).toMatchObject({ official: null });
    const u = await createUser(t, 'early');
    const d = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'LBP', amount: 1_000_000 },
    });
    expect([d.statusCode, d.json().code]).toEqual([422, 'NO_QUOTE']);
  });

  it('a fresh admin sets it (validated, audited); it values LBP deposits while no reference is published', async () => {
    const user = await createUser(t, 'notadmin');
    expect((await setOfficial({ usd_to_lbp: 89_500, source: 'Banque du Liban' }, user)).statusCode).toBe(403);
    for (const bad of [
      { usd_to_lbp: 0, source: 'x' },
      { usd_to_lbp: 89_500 },
      { usd_to_lbp: 89_500, source: '   ' },
      { usd_to_lbp: 89_500, source: 'x', effective_at: 'tomorrow' },
      { usd_to_lbp: 89_500, source: 'x', effective_at: '2099-01-01' },
      { usd_to_lbp: 89_500, source: 'x', extra: 1 },
    ]) {
      const res = await setOfficial(bad);
      expect({ bad, status: res.statusCode, code: res.json().code }).toEqual({
        bad,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const set = await setOfficial({ usd_to_lbp: 89_500, source: 'Banque du Liban' });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({
      usd_to_lbp: 89_500,
      lbp_to_usd: 89_500,
      source: 'Banque du Liban',
      in_force: true,
    });
    const logs = (
      await t.request('GET', '/admin/logs?event_type=ADMIN_OFFICIAL_RATE_SET', { token: admin.access })
    ).json();
    expect(logs.logs[0]).toMatchObject({ success: true, actor_user_id: admin.id });

    // no street reference yet: the official rate values LBP for the daily limit (10,000 USD)
    const u = await createUser(t, 'lbpdepositor');
    const ok = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'LBP', amount: 895_000_000 },
    });
    expect(ok.statusCode).toBe(201);
    const over = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'LBP', amount: 90_000 },
    });
    expect([over.statusCode, over.json().code]).toEqual([422, 'LIMIT_EXCEEDED']);
  });

  it('shown with the gap in /exchangeRate and /exchangeRate/official; never a contributor, never quoted', async () => {
    const o = (await t.request('GET', '/exchangeRate/official')).json();
    expect(o).toMatchObject({
      usd_to_lbp: 89_500,
      source: 'Banque du Liban',
      gap_percent: { usd_to_lbp: null },
    });
    // the official rate alone publishes no reference and gives no quote
    const r0 = (await t.request('GET', '/exchangeRate')).json();
    expect(r0).toMatchObject({
      usd_to_lbp: null,
      contributors: { usd_to_lbp: 0 },
      official: { usd_to_lbp: 89_500 },
    });
    const u = await createUser(t, 'quoter');
    const q = await t.request('POST', '/quotes', {
      token: u.access,
      body: { from_currency: 'USD', to_currency: 'LBP', from_amount: 10 },
    });
    expect([q.statusCode, q.json().code]).toEqual([422, 'NO_QUOTE']);
    // a street reference of 98,450 (three contributors): a gap of +10%
    for (const rate of [98_000, 98_450, 98_900]) {
      const c = await createUser(t, 'street');
      const res = await t.request('POST', '/transaction', {
        token: c.access,
        body: { usd_amount: 100, lbp_amount: 100 * rate, usd_to_lbp: true },
      });
      expect(res.statusCode).toBe(201);
    }
    const r = (await t.request('GET', '/exchangeRate')).json();
    expect(r).toMatchObject({
      usd_to_lbp: 98_450,
      contributors: { usd_to_lbp: 3 },
      official: { usd_to_lbp: 89_500, lbp_to_usd: 89_500, source: 'Banque du Liban' },
      gap_percent: { usd_to_lbp: 10, lbp_to_usd: null },
    });
    expect((await t.request('GET', '/exchangeRate/official')).json().gap_percent).toEqual({
      usd_to_lbp: 10,
      lbp_to_usd: null,
    });
  });

  it('is a series: a later entry replaces it, a future one waits, the history lists them all', async () => {
    const two = await setOfficial({ usd_to_lbp: 89_000, lbp_to_usd: 90_000, source: 'BdL platform' });
    expect(two.json()).toMatchObject({ in_force: true, lbp_to_usd: 90_000 });
    const soon = await setOfficial({
      usd_to_lbp: 95_000,
      source: 'BdL platform',
      effective_at: new Date(Date.now() + DAY).toISOString(),
    });
    expect(soon.json().in_force).toBe(false);
    const past = await setOfficial({
      usd_to_lbp: 1_507.5,
      source: 'the old peg',
      effective_at: '2019-01-01',
    });
    expect(past.json().in_force).toBe(false);
    expect((await t.request('GET', '/exchangeRate')).json().official).toMatchObject({
      usd_to_lbp: 89_000,
      lbp_to_usd: 90_000,
    });
    const history = await t.request('GET', '/exchangeRate/official/history');
    expect(history.headers['x-total-count']).toBe('4');
    expect(history.json().map((e: { usd_to_lbp: number }) => e.usd_to_lbp)).toEqual([
      95_000, 89_000, 89_500, 1_507.5,
    ]);
    expect(history.json().filter((e: { in_force: boolean }) => e.in_force)).toHaveLength(1);
  });
});

describe('forecasts', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ HISTORY_RATE_LIMIT: '10000' });
    admin = await createAdmin(t);
    user = await createUser(t, 'forecaster');
  });
  afterAll(() => t.close());

  const forecast = (q: string): Promise<Res> =>
    t.request('GET', `/forecast/exchange-rate?${q}`, { token: user.access });

  it('validates its query, needs a token, and says NO_DATA below 48 buckets', async () => {
    expect((await t.request('GET', '/forecast/exchange-rate?direction=usd_to_lbp')).statusCode).toBe(401);
    for (const q of [
      '',
      'direction=up',
      'direction=usd_to_lbp&bucket=week',
      'direction=usd_to_lbp&horizon=0',
      'direction=usd_to_lbp&horizon=169',
      'direction=usd_to_lbp&horizon=2.5',
    ]) {
      const res = await forecast(q);
      expect({ q, status: res.statusCode, code: res.json().code }).toEqual({
        q,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const end = Date.now() - 400 * DAY; // long before the gap test's series of this direction
    await importRows(
      t,
      admin,
      Array.from({ length: 47 }, (_, i) => ({
        direction: 'lbp_to_usd',
        rate: 89_000 + i,
        created_at: new Date(end - (46 - i) * DAY).toISOString(),
      })),
    );
    const few = await forecast('direction=lbp_to_usd&bucket=day&horizon=7');
    expect([few.statusCode, few.json().code]).toEqual([404, 'NO_DATA']);
    expect(few.json().error).toContain('47');
  });

  it('a synthetic trend with noise: every mid within the noise band, the 80% interval covers 70-90% in the backtest', async () => {
    const noise = normal(42);
    const sigma = 150;
    const n = 400;
    const held = 24;
    const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const trend = (i: number): number => 89_000 + 3 * i;
    const rows = Array.from({ length: n - held }, (_, i) => ({
      direction: 'usd_to_lbp',
      rate: Math.round((trend(i) + sigma * noise()) * 100) / 100,
      created_at: new Date(end - (n - held - 1 - i) * HOUR + 60_000).toISOString(),
    }));
    await importRows(t, admin, rows);
    const res = await forecast(`direction=usd_to_lbp&bucket=hour&horizon=${held}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      direction: 'usd_to_lbp',
      bucket: 'hour',
      horizon: held,
      history: { observed: n - held },
    });
    expect(body.model).toMatch(/combination/);
    const points = body.points as Point[];
    expect(points).toHaveLength(held);
    expect(Date.parse(points[0].t)).toBe(Date.parse(body.history.to) + HOUR);
    for (const [k, p] of points.entries()) {
      expect(Math.abs(p.mid - trend(n - held + k))).toBeLessThan(2 * sigma);
      expect(p.low_95).toBeLessThanOrEqual(p.low_80);
      expect(p.low_80).toBeLessThanOrEqual(p.mid);
      expect(p.mid).toBeLessThanOrEqual(p.high_80);
      expect(p.high_80).toBeLessThanOrEqual(p.high_95);
    }
    expect(body.backtest.windows).toBeGreaterThanOrEqual(20);
    expect(body.backtest.coverage_80_percent).toBeGreaterThanOrEqual(70);
    expect(body.backtest.coverage_80_percent).toBeLessThanOrEqual(90);
    // sampling noise is where smoothing pays: the model beats the naive forecast here
    expect(body.backtest.mape_percent).toBeLessThan(body.backtest.naive_mape_percent);
    // cached until new data arrives
    const again = await forecast(`direction=usd_to_lbp&bucket=hour&horizon=${held}`);
    expect(again.json().generated_at).toBe(body.generated_at);
  });

  it('a series with gaps (a third of the days missing, and a 10-day hole) is forecast from its last bucket', async () => {
    const noise = normal(7);
    const end = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
    const rows: { direction: string; rate: number; created_at: string }[] = [];
    let level = 88_000;
    for (let i = 0; i < 200; i++) {
      level *= 1 + 0.002 + 0.01 * noise();
      if (i < 199 && (i % 3 === 1 || (i > 120 && i < 131))) continue;
      rows.push({
        direction: 'lbp_to_usd',
        rate: Math.round(level),
        created_at: new Date(end - (199 - i) * DAY + HOUR).toISOString(),
      });
    }
    // the lbp_to_usd direction already has 47 days from the NO_DATA test, long before these
    await importRows(t, admin, rows);
    const res = await forecast('direction=lbp_to_usd&bucket=day&horizon=10');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.history.observed).toBeLessThan(body.history.buckets);
    expect(Date.parse(body.history.to)).toBe(end);
    expect(Date.parse(body.points[0].t)).toBe(end + DAY);
    for (const p of body.points as Point[]) expect(p.mid).toBeGreaterThan(level * 0.8);
    expect(body.backtest.mape_percent).toEqual(expect.any(Number));
  });
});

describe('forecast quality on a real parallel-market series: the Argentine blue dollar', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;
  // the last two years of docs/data/dolar-blue-ars.csv (ARS per USD, daily sell, weekdays)
  const all = readFileSync(join(__dirname, '..', 'docs', 'data', 'dolar-blue-ars.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [date, rate] = line.split(',');
      return { at: Date.parse(`${date}T12:00:00Z`), rate: Number(rate) };
    });
  const last = all[all.length - 1].at;
  const series = all.filter((r) => r.at > last - 2 * 365 * DAY);
  const heldOut = series.filter((r) => r.at > last - 7 * DAY);
  const known = series.filter((r) => r.at <= last - 7 * DAY);

  beforeAll(async () => {
    t = await startTestApp({ HISTORY_RATE_LIMIT: '10000' });
    admin = await createAdmin(t);
    user = await createUser(t, 'blue');
    await importRows(
      t,
      admin,
      known.map((r) => ({ direction: 'usd_to_lbp', rate: r.rate, created_at: new Date(r.at).toISOString() })),
    );
  });
  afterAll(() => t.close());

  it('imported as feed samples: a 7-day forecast, its backtest next to the naive one, and the held-out week', async () => {
    const res = await t.request('GET', '/forecast/exchange-rate?direction=usd_to_lbp&bucket=day&horizon=7', {
      token: user.access,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.history.observed).toBe(known.length);
    const b = body.backtest;
    console.log(
      `blue dollar, last 2 years (${known.length} days): 7-day backtest over ${b.windows} windows: MAPE ${b.mape_percent}% ` +
        `vs naive ${b.naive_mape_percent}%, 80% coverage ${b.coverage_80_percent}%; ` +
        `by step: ${b.horizons.map((h: { h: number; mape_percent: number; naive_mape_percent: number }) => `h${h.h} ${h.mape_percent}/${h.naive_mape_percent}`).join(', ')}`,
    );
    expect(b.mape_percent).toBeLessThanOrEqual(b.naive_mape_percent);
    expect(b.coverage_80_percent).toBeGreaterThanOrEqual(60);
    expect(b.coverage_80_percent).toBeLessThanOrEqual(95);
    // the held-out week: its days against the forecast of their dates, and against the last known value
    const points = body.points as Point[];
    const byDay = new Map(points.map((p) => [Date.parse(p.t) / DAY, p]));
    const lastKnown = known[known.length - 1].rate;
    let model = 0;
    let naive = 0;
    for (const r of heldOut) {
      const p = byDay.get(Math.floor(r.at / DAY));
      if (!p) throw new Error(`no forecast for ${new Date(r.at).toISOString()}`);
      model += Math.abs(p.mid - r.rate) / r.rate;
      naive += Math.abs(lastKnown - r.rate) / r.rate;
    }
    console.log(
      `held-out week: MAPE ${((100 * model) / heldOut.length).toFixed(3)}% vs naive ${((100 * naive) / heldOut.length).toFixed(3)}%`,
    );
    expect(model).toBeLessThanOrEqual(1.5 * naive);
    // the API's backtest is the model's own (src/forecast/model.ts) on the same daily grid
    const grid: (number | null)[] = [];
    const first = Math.floor(known[0].at / DAY);
    const byDate = new Map(known.map((r) => [Math.floor(r.at / DAY), r.rate]));
    for (let d = first; d <= Math.floor(known[known.length - 1].at / DAY); d++)
      grid.push(byDate.get(d) ?? null);
    const direct = backtest(grid, 7, 30);
    expect(b.mape_percent).toBeCloseTo(direct.mapePercent ?? 0, 3);
  });
});
