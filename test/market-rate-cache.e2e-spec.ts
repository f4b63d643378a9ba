import { REQUEST_METRICS } from '../src/metrics/metrics';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { MaintenanceState } from '../src/common/maintenance';
import { TransactionRunner } from '../src/database/transaction-runner';
import { MarketService } from '../src/rates/market.service';
import { RateHourlyEntity, ROLLUP_SHARDS } from '../src/rates/rate-hourly.entity';
import { RateSampleEntity } from '../src/rates/rate-sample.entity';
import { RatesRepository } from '../src/rates/rates.repository';
import { RatesService } from '../src/rates/rates.service';
import { ReferenceRateService } from '../src/rates/reference-rate.service';
import { StreamService } from '../src/stream/stream.service';
import { RollupShards1795633619496 as MysqlRollupShards } from '../migrations/mysql/1795633619496-RollupShards';
import { RollupShards1795633619496 as SqliteRollupShards } from '../migrations/sqlite/1795633619496-RollupShards';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { hourlyRollup } from './support/rollup';
import { sleep } from './support/server-process';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

interface Rate {
  usd_to_lbp: number | null;
  lbp_to_usd: number | null;
  window_hours: number;
  samples: { usd_to_lbp: number; lbp_to_usd: number };
  contributors: { usd_to_lbp: number; lbp_to_usd: number };
  updated_at: string | null;
}

/** Headers that differ between any two responses. */
const VARYING = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
const stable = (res: Res) =>
  Object.fromEntries(Object.entries(res.headers).filter(([k]) => !VARYING.has(k.toLowerCase())));

describe('the live reference rate, its HTTP fast path and the sharded hourly rollup', () => {
  let t: TestApp;
  let u: TestUser;
  let market: MarketService;
  let reference: ReferenceRateService;
  const TTL = 1000;
  const ORIGIN = 'https://app.example.test';

  beforeAll(async () => {
    t = await startTestApp({
      TRANSACTION_RATE_LIMIT: '100000',
      MARKET_RATE_CACHE_MS: String(TTL),
      OUTLIER_BASELINE_CACHE_SECONDS: String(TTL / 1000),
      CORS_ORIGINS: ORIGIN,
      // one recording account publishes here: these tests are about the live set, not contributors
      RATE_MIN_CONTRIBUTORS: '1',
    });
    u = await createUser(t);
    market = t.app.get(MarketService);
    reference = t.app.get(ReferenceRateService);
  });
  afterAll(async () => {
    await t.close();
  });
  /** The app's clock, frozen per test, so a cached rate never expires unless a test moves time. */
  let now: number;
  beforeEach(() => {
    now = Date.now();
    jest.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    // the live streams' rate check (200 ms after each change of the reference) also calls
    // MarketService.exchangeRate; here only HTTP answers may, so the counts below are the routes'
    const streams = t.app.get<StreamService, { checkRate: () => Promise<void> }>(StreamService);
    jest.spyOn(streams, 'checkRate').mockResolvedValue(undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const sell = (usd: number, rate: number) =>
    t.request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: usd, lbp_amount: usd * rate, usd_to_lbp: true },
    });
  const rate = async () => (await t.request('GET', '/exchangeRate')).json<Rate>();

  it('a record through this instance shows in GET /exchangeRate at once, with no query, while the set is fresh', async () => {
    expect((await sell(10, 89_500)).statusCode).toBe(201);
    const first = await rate();
    expect(first.samples.usd_to_lbp).toBe(1);
    expect(market.cachedExchangeRateJson()).not.toBeNull();
    const reads = jest.spyOn(t.app.get(RatesRepository), 'contributorRows');
    expect((await sell(30, 90_000)).statusCode).toBe(201);
    const second = await rate();
    expect(second.samples.usd_to_lbp).toBe(2);
    // one account, one contributor: its volume-weighted average
    expect(second.contributors.usd_to_lbp).toBe(1);
    expect(second.usd_to_lbp).toBe((10 * 89_500 + 30 * 90_000) / 40);
    expect(reads).not.toHaveBeenCalled(); // the commit added it: no window aggregate was recomputed
  });

  it('an outlier mark changed by an admin shows in GET /exchangeRate at once', async () => {
    const admin = await createAdmin(t);
    const before = await rate();
    expect(market.cachedExchangeRateJson()).not.toBeNull();
    const [sample] = await t.app
      .get(DataSource)
      .getRepository(RateSampleEntity)
      .find({ where: { direction: 'usd_to_lbp', isOutlier: false }, order: { id: 'ASC' }, take: 1 });
    const res = await t.request('PATCH', `/admin/rates/${sample.id}`, {
      token: admin.access,
      body: { is_outlier: true, reason: 'cache test' },
    });
    expect(res.statusCode).toBe(200);
    expect((await rate()).samples.usd_to_lbp).toBe(before.samples.usd_to_lbp - 1);
    const back = await t.request('PATCH', `/admin/rates/${sample.id}`, {
      token: admin.access,
      body: { is_outlier: false, reason: 'cache test undone' },
    });
    expect(back.statusCode).toBe(200);
    expect(await rate()).toEqual(before);
  });

  it('the cached answer (fast path) has the same body and headers as the computed one', async () => {
    reference.invalidate();
    const compute = jest.spyOn(market, 'exchangeRate');
    const computed = await t.request('GET', '/exchangeRate');
    expect(compute).toHaveBeenCalledTimes(1);
    const cached = await t.request('GET', '/exchangeRate?any=query');
    expect(compute).toHaveBeenCalledTimes(1); // answered before the controller
    expect(cached.statusCode).toBe(200);
    expect(cached.body).toBe(computed.body);
    expect(stable(cached)).toEqual(stable(computed));
    expect(cached.headers['x-request-id']).toEqual(expect.any(String));
    expect(cached.headers['content-security-policy']).toBeDefined();
    // CORS on the fast path too: a browser on an allowed origin, and one on another origin
    for (const origin of [ORIGIN, 'https://elsewhere.example.test']) {
      reference.invalidate();
      const computedBefore = compute.mock.calls.length;
      const computedCors = await t.request('GET', '/exchangeRate', { headers: { origin } });
      const cachedCors = await t.request('GET', '/exchangeRate', { headers: { origin } });
      expect(compute).toHaveBeenCalledTimes(computedBefore + 1); // the second from the cache
      expect(cachedCors.body).toBe(computedCors.body);
      expect(stable(cachedCors)).toEqual(stable(computedCors));
      expect(cachedCors.headers['access-control-allow-origin']).toBe(origin === ORIGIN ? ORIGIN : undefined);
    }
    expect(cached.headers.vary).toBe('Origin');
    expect(cached.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('the fast path is counted by the request metrics like any answer', async () => {
    await rate(); // cached from here
    const served = async (): Promise<number> => {
      const m = await REQUEST_METRICS.httpRequests.get();
      return m.values
        .filter((v) => v.labels.route === '/exchangeRate' && v.labels.status_class === '2xx')
        .reduce((a, v) => a + v.value, 0);
    };
    const before = await served();
    const compute = jest.spyOn(market, 'exchangeRate');
    for (let i = 0; i < 5; i++) expect((await t.request('GET', '/exchangeRate')).statusCode).toBe(200);
    expect(compute).not.toHaveBeenCalled();
    expect((await served()) - before).toBe(5);
  });

  it('only GET /exchangeRate takes the fast path: HEAD and other routes go through Nest', async () => {
    await rate();
    expect(market.cachedExchangeRateJson()).not.toBeNull();
    const compute = jest.spyOn(market, 'exchangeRate');
    const head = await t.request('HEAD', '/exchangeRate');
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(compute).toHaveBeenCalledTimes(1); // through the controller, although the rate is cached
    const other = await t.request('GET', '/exchangeRates');
    expect(other.statusCode).toBe(404);
  });

  it('concurrent readers after a change share one load per direction', async () => {
    reference.invalidate();
    const reads = jest.spyOn(t.app.get(RatesRepository), 'contributorRows');
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.request('GET', '/exchangeRate')));
    expect(answers.every((r) => r.statusCode === 200 && r.body === answers[0].body)).toBe(true);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('a sample written elsewhere (another instance) shows within 2 x MARKET_RATE_CACHE_MS, no reader waiting for the reload', async () => {
    reference.invalidate(); // loaded at this test's (frozen) time
    const before = await rate();
    // as another instance would: committed, but this instance's live set is not told
    const told = jest.spyOn(reference, 'noteSample').mockImplementation(() => Promise.resolve());
    await t.app
      .get(TransactionRunner)
      .run((m) =>
        t.app
          .get(RatesService)
          .record({ direction: 'lbp_to_usd', rate: 89_700, source: 'manual', usdVolume: 100_000n }, m),
      );
    expect(told).toHaveBeenCalledTimes(1); // this instance's own commit would have refreshed it
    told.mockRestore();
    expect((await rate()).samples.lbp_to_usd).toBe(before.samples.lbp_to_usd);
    now += TTL - 1;
    expect((await rate()).samples.lbp_to_usd).toBe(before.samples.lbp_to_usd);
    now += 1;
    // due: the reload runs in the background, the readers of that moment keep the current figures
    const loads = jest.spyOn(t.app.get(RatesRepository), 'contributorRows');
    expect((await rate()).samples.lbp_to_usd).toBe(before.samples.lbp_to_usd);
    // and see the sample once the reload is in (the clock stands still: within the second period)
    let samples = before.samples.lbp_to_usd;
    for (let i = 0; i < 100 && samples === before.samples.lbp_to_usd; i++) {
      await sleep(10);
      samples = (await rate()).samples.lbp_to_usd;
    }
    expect(samples).toBe(before.samples.lbp_to_usd + 1);
    // one background load per direction, shared by the readers meanwhile
    expect(loads.mock.calls.map(([direction]) => direction).sort()).toEqual(['lbp_to_usd', 'usd_to_lbp']);
    loads.mockRestore();
  });

  it('a restore (data replaced) forgets the cached rate; maintenance still answers 503 before the fast path', async () => {
    await rate();
    expect(market.cachedExchangeRateJson()).not.toBeNull();
    const maintenance = t.app.get(MaintenanceState);
    const during = await maintenance.during(() => t.request('GET', '/exchangeRate'));
    expect(during.statusCode).toBe(503);
    expect(during.json()).toMatchObject({ code: 'MAINTENANCE' });
    maintenance.dataReplaced();
    expect(market.cachedExchangeRateJson()).toBeNull();
  });

  it('concurrent samples of one hour spread over the shard rows, and figures sum them exactly', async () => {
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => sell(10 + i, 89_000 + i * 10)));
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    const ds = t.app.get(DataSource);
    const rows = await ds.getRepository(RateHourlyEntity).findBy({ direction: 'usd_to_lbp' });
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.every((r) => r.shard >= 0 && r.shard < ROLLUP_SHARDS)).toBe(true);
    // every accepted sample is in exactly one row
    const [{ n }] = await ds.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM rate_samples WHERE direction = 'usd_to_lbp' AND is_outlier = 0",
    );
    expect(rows.reduce((a, r) => a + r.sampleCount, 0)).toBe(Number(n));
    const r = await rate();
    expect(r.samples.usd_to_lbp).toBe(Number(n));
  });

  it('the migration down folds the shard rows of each hour into one row, and up restores the key', async () => {
    const ds = t.app.get(DataSource);
    const hours = await ds
      .getRepository(RateHourlyEntity)
      .find({ select: { direction: true, bucketStart: true } });
    const keys = [
      ...new Map(hours.map((h) => [`${h.direction}|${h.bucketStart.toISOString()}`, h])).values(),
    ];
    const folded = await Promise.all(keys.map((h) => hourlyRollup(ds, h.direction, h.bucketStart)));
    const before = await rate();
    const migration = t.db === 'mysql' ? new MysqlRollupShards() : new SqliteRollupShards();
    const qr = ds.createQueryRunner();
    try {
      await migration.down(qr);
      const rows: Record<string, unknown>[] = await qr.query(
        'SELECT * FROM rate_hourly ORDER BY direction, bucket_start',
      );
      expect(rows).toHaveLength(keys.length);
      expect(rows.every((row) => !('shard' in row))).toBe(true);
      await migration.up(qr);
    } finally {
      await qr.release();
    }
    const after = await Promise.all(keys.map((h) => hourlyRollup(ds, h.direction, h.bucketStart)));
    expect(after).toEqual(folded);
    reference.invalidate();
    expect(await rate()).toEqual(before);
  });
});
