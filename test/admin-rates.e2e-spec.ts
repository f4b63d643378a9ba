import { DataSource } from 'typeorm';
import { NO_REQUEST } from '../src/common/http/request-meta';
import { AdminRatesService } from '../src/rates/admin-rates.service';
import { type Direction, RateSampleEntity } from '../src/rates/rate-sample.entity';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { hourlyRollup } from './support/rollup';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(180_000);

interface SampleBody {
  id: number;
  direction: Direction;
  rate: number;
  source: string;
  user_id: number | null;
  transaction_id: number | null;
  trade_id: number | null;
  usd_volume: number;
  is_outlier: boolean;
  anomaly_reason: string | null;
  anomaly_score: number | null;
  baseline_rate: number | null;
  deviation_percent: number | null;
  created_at: string;
}

interface ImportBody {
  imported: number;
  flagged: number;
  rejected: { row: number; errors: { field: string; message: string }[] }[];
  samples: number[];
}

interface LogRow {
  event_type: string;
  success: boolean;
  status_code: number | null;
  actor_user_id: number | null;
  metadata_json: string | null;
}

const SAMPLE_KEYS = [
  'id',
  'direction',
  'rate',
  'source',
  'user_id',
  'transaction_id',
  'trade_id',
  'usd_volume',
  'is_outlier',
  'anomaly_reason',
  'anomaly_score',
  'created_at',
];

const BASE_ENV = { OUTLIER_BASELINE_CACHE_SECONDS: '0', OUTLIER_MIN_SAMPLES: '5', OUTLIER_PERCENT: '20' };

/** An access token of `u` that is not fresh: access tokens from POST /refresh never are. */
async function nonFresh(t: TestApp, u: TestUser): Promise<string> {
  const s = await login(t, u.userName, u.password);
  const res = await t.request('POST', '/refresh', { token: s.refresh });
  expect(res.statusCode).toBe(200);
  return res.json<{ access_token: string }>().access_token;
}

function expectError(res: Res, status: number, code?: string): void {
  expect({ status: res.statusCode, body: res.json() }).toMatchObject({
    status,
    body: { statusCode: status, error: expect.any(String), ...(code ? { code } : {}) },
  });
}

async function logs(t: TestApp, admin: TestUser, query: string): Promise<{ total: number; logs: LogRow[] }> {
  const res = await t.request('GET', `/admin/logs?${query}`, { token: admin.access });
  expect(res.statusCode).toBe(200);
  return res.json();
}

const metadata = (row: LogRow): Record<string, unknown> =>
  JSON.parse(row.metadata_json ?? '{}') as Record<string, unknown>;

const at = (iso: string, plusMinutes = 0): string =>
  new Date(new Date(iso).getTime() + plusMinutes * 60_000).toISOString();

describe('POST /admin/rates', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    t = await startTestApp(BASE_ENV);
    admin = await createAdmin(t);
    user = await createUser(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (body: unknown, token = admin.access): Promise<Res> =>
    t.request('POST', '/admin/rates', { token, body });

  it('201 with the contract sample (source manual, user_id null), stored, and audited in the same transaction', async () => {
    const res = await post({
      direction: 'usd_to_lbp',
      rate: 89500.25,
      usd_volume: 250.5,
      created_at: '2026-11-01T10:00:00+02:00',
    });
    expect(res.statusCode).toBe(201);
    const b = res.json<SampleBody>();
    expect(Object.keys(b)).toEqual(expect.arrayContaining(SAMPLE_KEYS));
    expect(b).toEqual({
      id: expect.any(Number),
      direction: 'usd_to_lbp',
      rate: 89500.25,
      source: 'manual',
      user_id: null,
      transaction_id: null,
      trade_id: null,
      usd_volume: 250.5,
      is_outlier: false,
      anomaly_reason: null,
      anomaly_score: null,
      baseline_rate: null,
      deviation_percent: null,
      created_at: '2026-11-01T08:00:00.000Z',
    });
    const row = await t.app.get(DataSource).getRepository(RateSampleEntity).findOneByOrFail({ id: b.id });
    expect(row).toMatchObject({ source: 'manual', usdVolume: 25050n, userId: null });
    const page = await logs(t, admin, `event_type=ADMIN_RATE_CREATE&actor_user_id=${admin.id}&success=true`);
    expect(page.total).toBe(1);
    expect(page.logs[0]).toMatchObject({ success: true, status_code: 201 });
    expect(metadata(page.logs[0])).toMatchObject({
      sample_id: b.id,
      direction: 'usd_to_lbp',
      usd_volume: '250.50',
      is_outlier: false,
    });
  });

  it('defaults usd_volume to 1 and created_at to now', async () => {
    const before = Date.now();
    const res = await post({ direction: 'lbp_to_usd', rate: 89700 });
    expect(res.statusCode).toBe(201);
    const b = res.json<SampleBody>();
    expect(b).toMatchObject({ direction: 'lbp_to_usd', rate: 89700, usd_volume: 1, source: 'manual' });
    const created = new Date(b.created_at).getTime();
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Date.now());
  });

  const future = new Date(Date.now() + 3600_000).toISOString();
  it.each([
    [{ direction: 'sideways', rate: 1 }, 'direction'],
    [{ rate: 1 }, 'direction'],
    [{ direction: 'usd_to_lbp' }, 'rate'],
    [{ direction: 'usd_to_lbp', rate: 0 }, 'rate'],
    [{ direction: 'usd_to_lbp', rate: -89500 }, 'rate'],
    [{ direction: 'usd_to_lbp', rate: 1e9 + 1 }, 'rate'],
    [{ direction: 'usd_to_lbp', rate: '89500' }, 'rate'],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 0 }, 'usd_volume'],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 1.005 }, 'usd_volume'],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 1e-7 }, 'usd_volume'],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 1e12 + 1 }, 'usd_volume'],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: future }, 'created_at'],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2026-01-01T25:00' }, 'created_at'],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2026-02-30T00:00:00Z' }, 'created_at'],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: 1767225600000 }, 'created_at'],
    [{ direction: 'usd_to_lbp', rate: 1, source: 'transaction' }, 'source'],
    [{ direction: 'usd_to_lbp', rate: 1, user_id: 7 }, 'user_id'],
  ])('400 VALIDATION_FAILED for %p naming %s', async (body, field) => {
    const res = await post(body);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.json<{ details: { field: string }[] }>().details.map((d) => d.field)).toContain(field);
  });

  it('400 without a body', async () => {
    expectError(await t.request('POST', '/admin/rates', { token: admin.access }), 400);
  });

  it('401 without a token, 403 for a plain user (audited as ADMIN_ACCESS_DENIED); nothing stored', async () => {
    const body = { direction: 'usd_to_lbp', rate: 89500 };
    const count = () => t.app.get(DataSource).getRepository(RateSampleEntity).count();
    const before = await count();
    expectError(await t.request('POST', '/admin/rates', { body }), 401);
    expectError(await post(body, user.access), 403, 'FORBIDDEN_ROLE');
    expect(await count()).toBe(before);
    const denied = await logs(t, admin, `event_type=ADMIN_ACCESS_DENIED&actor_user_id=${user.id}`);
    expect(denied.total).toBe(1);
  });
});

describe('outliers, PATCH /admin/rates/:id and the hourly rollup', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let ds: DataSource;

  beforeAll(async () => {
    t = await startTestApp(BASE_ENV);
    admin = await createAdmin(t);
    user = await createUser(t);
    ds = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = async (body: Record<string, unknown>): Promise<SampleBody> => {
    const res = await t.request('POST', '/admin/rates', { token: admin.access, body });
    expect(res.statusCode).toBe(201);
    return res.json<SampleBody>();
  };
  const patch = (id: number | string, body: unknown, token = admin.access): Promise<Res> =>
    t.request('PATCH', `/admin/rates/${id}`, { token, body });
  const hourly = (direction: Direction, hour: string) => hourlyRollup(ds, direction, new Date(hour));

  const HOUR = '2026-11-01T10:00:00.000Z';
  let planted: SampleBody;

  it('under the minimum sample count even a 3x manual rate is stored unflagged', async () => {
    for (const [i, rate] of [89000, 89500, 90000, 89800].entries())
      await post({ direction: 'lbp_to_usd', rate, created_at: at(HOUR, i) });
    const wild = await post({ direction: 'lbp_to_usd', rate: 268500, created_at: at(HOUR, 10) });
    expect(wild).toMatchObject({ is_outlier: false, anomaly_reason: null });
    expect((await hourly('lbp_to_usd', HOUR))?.sampleCount).toBe(5);
  });

  it('a planted 3x manual sample after 5 normal ones is stored, flagged with reason and score, and kept out of the rollup', async () => {
    const normals = [89000, 89500, 90000, 89800, 89600];
    for (const [i, rate] of normals.entries())
      expect(
        await post({ direction: 'usd_to_lbp', rate, usd_volume: 10, created_at: at(HOUR, i) }),
      ).toMatchObject({ is_outlier: false });
    planted = await post({ direction: 'usd_to_lbp', rate: 268800, usd_volume: 10, created_at: at(HOUR, 30) });
    expect(planted).toMatchObject({
      source: 'manual',
      is_outlier: true,
      anomaly_reason: expect.stringContaining('200.0%'),
      baseline_rate: 89600,
      deviation_percent: 200,
    });
    expect(planted.anomaly_score).toBeGreaterThan(3.5);
    const stored = await ds.getRepository(RateSampleEntity).findOneByOrFail({ id: planted.id });
    expect(stored.isOutlier).toBe(true);
    expect(await hourly('usd_to_lbp', HOUR)).toMatchObject({
      sampleCount: 5,
      volumeUsd: 5000n,
      minRate: 89000,
      maxRate: 90000,
      closeRate: 89600,
    });
  });

  it('PATCH is_outlier=false brings it into the rollup; PATCH true takes it out again; both audited with before/after', async () => {
    const back = await patch(planted.id, { is_outlier: false, reason: 'confirmed with the desk' });
    expect(back.statusCode).toBe(200);
    expect(back.json<SampleBody>()).toMatchObject({
      id: planted.id,
      is_outlier: false,
      anomaly_reason: 'confirmed with the desk',
      rate: 268800,
      source: 'manual',
      created_at: planted.created_at,
    });
    expect(await hourly('usd_to_lbp', HOUR)).toMatchObject({
      sampleCount: 6,
      volumeUsd: 6000n,
      maxRate: 268800,
      closeRate: 268800,
      closeId: planted.id,
    });

    const out = await patch(planted.id, { is_outlier: true, reason: 'fat finger after all' });
    expect(out.statusCode).toBe(200);
    expect(out.json<SampleBody>()).toMatchObject({
      is_outlier: true,
      anomaly_reason: 'fat finger after all',
    });
    expect(await hourly('usd_to_lbp', HOUR)).toMatchObject({
      sampleCount: 5,
      maxRate: 90000,
      closeRate: 89600,
    });

    const page = await logs(t, admin, 'event_type=ADMIN_RATE_OVERRIDE&success=true');
    expect(page.total).toBe(2);
    expect(metadata(page.logs[0])).toMatchObject({
      sample_id: planted.id,
      reason: 'fat finger after all',
      before: { is_outlier: false, anomaly_reason: 'confirmed with the desk' },
      after: { is_outlier: true, anomaly_reason: 'fat finger after all' },
    });
    expect(metadata(page.logs[1])).toMatchObject({
      before: { is_outlier: true, anomaly_reason: expect.stringContaining('200.0%') },
      after: { is_outlier: false },
    });
  });

  it('overriding the only sample of an hour empties and refills that hour', async () => {
    const lone = await post({ direction: 'usd_to_lbp', rate: 89700, created_at: '2026-11-01T13:15:00Z' });
    expect((await hourly('usd_to_lbp', '2026-11-01T13:00:00Z'))?.sampleCount).toBe(1);
    expect((await patch(lone.id, { is_outlier: true, reason: 'test' })).statusCode).toBe(200);
    expect(await hourly('usd_to_lbp', '2026-11-01T13:00:00Z')).toBeNull();
    expect((await patch(lone.id, { is_outlier: false, reason: 'test' })).statusCode).toBe(200);
    expect((await hourly('usd_to_lbp', '2026-11-01T13:00:00Z'))?.sampleCount).toBe(1);
  });

  it('a refreshed (non-fresh) admin token → 403 FRESH_TOKEN_REQUIRED, and nothing changes', async () => {
    const stale = await nonFresh(t, admin);
    expectError(
      await patch(planted.id, { is_outlier: false, reason: 'x' }, stale),
      403,
      'FRESH_TOKEN_REQUIRED',
    );
    expect((await ds.getRepository(RateSampleEntity).findOneByOrFail({ id: planted.id })).isOutlier).toBe(
      true,
    );
    // the same stale token is fine on the routes that do not need freshness
    expect((await t.request('GET', '/admin/data-quality', { token: stale })).statusCode).toBe(200);
  });

  it('404 for an unknown sample (audited as a refused override)', async () => {
    expectError(await patch(999999, { is_outlier: false, reason: 'x' }), 404, 'RATE_SAMPLE_NOT_FOUND');
    const page = await logs(t, admin, 'event_type=ADMIN_RATE_OVERRIDE&success=false');
    expect(page.logs.map((l) => l.status_code)).toContain(404);
  });

  it.each([
    ['abc', { is_outlier: false, reason: 'x' }, 'id'],
    ['0', { is_outlier: false, reason: 'x' }, 'id'],
    ['1', { reason: 'x' }, 'is_outlier'],
    ['1', { is_outlier: 'false', reason: 'x' }, 'is_outlier'],
    ['1', { is_outlier: false }, 'reason'],
    ['1', { is_outlier: false, reason: '' }, 'reason'],
    ['1', { is_outlier: false, reason: '   ' }, 'reason'],
    ['1', { is_outlier: false, reason: 'r'.repeat(301) }, 'reason'],
    ['1', { is_outlier: false, reason: 'x', rate: 5 }, 'rate'],
  ])('PATCH /admin/rates/%s with %p → 400 naming %s', async (id, body, field) => {
    const res = await patch(id, body);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.json<{ details: { field: string }[] }>().details.map((d) => d.field)).toContain(field);
  });

  it('accepts a reason of exactly 300 characters', async () => {
    expect((await patch(planted.id, { is_outlier: true, reason: 'r'.repeat(300) })).statusCode).toBe(200);
  });

  it('401 without a token, 403 for a plain user', async () => {
    expectError(await patch(planted.id, { is_outlier: false, reason: 'x' }, ''), 401);
    expectError(
      await patch(planted.id, { is_outlier: false, reason: 'x' }, user.access),
      403,
      'FORBIDDEN_ROLE',
    );
  });
});

describe('POST /admin/rates/import', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let ds: DataSource;

  beforeAll(async () => {
    t = await startTestApp(BASE_ENV);
    admin = await createAdmin(t);
    user = await createUser(t);
    ds = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (body: unknown, token = admin.access): Promise<Res> =>
    t.request('POST', '/admin/rates/import', { token, body });
  const samplesByIds = async (ids: number[]): Promise<RateSampleEntity[]> => {
    const rows = await ds.getRepository(RateSampleEntity).findBy(ids.map((id) => ({ id })));
    return ids.map((id) => rows.find((r) => r.id === id) as RateSampleEntity);
  };

  it('mixed valid and invalid rows: valid ones stored as feed, bad ones reported by row number and field', async () => {
    const T = '2026-10-05T08:00:00Z';
    const rows: unknown[] = [
      { direction: 'usd_to_lbp', rate: 89500, usd_volume: 100, created_at: at(T, 0) }, // 1 ok
      { direction: 'usd_to_lbd', rate: 89500 }, // 2 direction
      { direction: 'lbp_to_usd', rate: 89600.5, created_at: at(T, 1) }, // 3 ok
      { direction: 'usd_to_lbp', rate: -1, usd_volume: 1.234 }, // 4 rate, usd_volume
      'usd_to_lbp,89500', // 5 row
      { direction: 'usd_to_lbp', rate: 89500, source: 'trade' }, // 6 source
      { direction: 'usd_to_lbp', rate: 89500, created_at: new Date(Date.now() + 86_400_000).toISOString() }, // 7
      { direction: 'lbp_to_usd', rate: 89400, usd_volume: 0.01 }, // 8 ok (now)
    ];
    const res = await post(rows);
    expect(res.statusCode).toBe(201);
    const b = res.json<ImportBody>();
    expect(b.imported).toBe(3);
    expect(b.flagged).toBe(0);
    expect(b.rejected.map((r) => [r.row, [...new Set(r.errors.map((e) => e.field))].sort()])).toEqual([
      [2, ['direction']],
      [4, ['rate', 'usd_volume']],
      [5, ['row']],
      [6, ['source']],
      [7, ['created_at']],
    ]);
    for (const r of b.rejected) for (const e of r.errors) expect(e.message).toEqual(expect.any(String));
    expect(b.samples).toHaveLength(3);
    const stored = await samplesByIds(b.samples);
    expect(stored.map((s) => [s.source, s.direction, s.rate, s.usdVolume, s.userId])).toEqual([
      ['feed', 'usd_to_lbp', 89500, 10000n, null],
      ['feed', 'lbp_to_usd', 89600.5, 100n, null],
      ['feed', 'lbp_to_usd', 89400, 1n, null],
    ]);
    const page = await logs(t, admin, 'event_type=ADMIN_RATE_IMPORT&success=true');
    expect(metadata(page.logs[0])).toMatchObject({
      format: 'json',
      rows: 8,
      imported: 3,
      flagged: 0,
      rejected: 5,
      rejected_rows: [2, 4, 5, 6, 7],
      sample_ids: b.samples,
    });
  });

  it('stores rows in created_at order, so each is judged only against the rows before it', async () => {
    const T = '2026-10-10T08:00:00Z';
    const normal = (i: number) => ({
      direction: 'usd_to_lbp',
      rate: 89500 + 50 * i,
      created_at: at(T, 10 + i),
    });
    // listed first but the latest: judged after the five normals → flagged
    const late3x = { direction: 'usd_to_lbp', rate: 268650, created_at: at(T, 30) };
    // listed last but the earliest: judged first, with no baseline → not flagged
    const early3x = { direction: 'usd_to_lbp', rate: 268650, created_at: at(T, 0) };
    const res = await post({ samples: [late3x, ...[0, 1, 2, 3, 4].map(normal), early3x] });
    expect(res.statusCode).toBe(201);
    const b = res.json<ImportBody>();
    expect(b).toMatchObject({ imported: 7, flagged: 1, rejected: [] });
    const stored = await samplesByIds(b.samples);
    expect(stored.map((s) => s.isOutlier)).toEqual([true, false, false, false, false, false, false]);
    // the baseline of the late one: the five normals and the (accepted) early 3x one
    expect(stored[0]).toMatchObject({ baselineRate: 89625, source: 'feed' });
    expect(stored[0].anomalyReason).toContain('199.7%');
    expect(stored[0].anomalyScore).toBeGreaterThan(3.5);
    // ids were given in created_at order
    const byTime = [...stored].sort((a, c) => a.createdAt.getTime() - c.createdAt.getTime());
    expect(byTime.map((s) => s.id)).toEqual([...b.samples].sort((a, c) => a - c));
    // the flagged one is not in its hour's rollup; the early 3x one (accepted) is
    const hour = await hourlyRollup(ds, 'usd_to_lbp', new Date(T));
    expect(hour).toMatchObject({ sampleCount: 6, maxRate: 268650, openRate: 268650, closeRate: 89700 });
  });

  it('no valid row → 400 VALIDATION_FAILED listing the rejected rows in details; audited as refused', async () => {
    const res = await post([{ direction: 'x', rate: 1 }, { direction: 'usd_to_lbp', rate: 0 }, 7]);
    expectError(res, 400, 'VALIDATION_FAILED');
    const details = res.json<{ details: { field: string; message: string; value: number }[] }>().details;
    expect(details.map((d) => [d.value, d.field])).toEqual([
      [1, 'direction'],
      [2, 'rate'],
      [3, 'row'],
    ]);
    expect(details[1].message).toMatch(/^row 2: /);
    const page = await logs(t, admin, 'event_type=ADMIN_RATE_IMPORT&success=false');
    expect(page.logs[0]).toMatchObject({ status_code: 400, actor_user_id: admin.id });
  });

  // ~360 kB of JSON: over BODY_LIMIT_BYTES (100 kB) but within the import route's own limit
  it('more than 10,000 rows → 400 and nothing stored', async () => {
    const before = await ds.getRepository(RateSampleEntity).count();
    const rows = Array.from({ length: 10_001 }, () => ({ direction: 'usd_to_lbp', rate: 89500 }));
    const res = await post(rows);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.json<{ error: string }>().error).toContain('10000');
    expect(await ds.getRepository(RateSampleEntity).count()).toBe(before);
  });

  it.each([
    ['an empty array', []],
    ['an empty samples list', { samples: [] }],
    ['an object without samples', { direction: 'usd_to_lbp', rate: 1 }],
    ['samples that is not a list', { samples: 'usd_to_lbp,1' }],
    ['an extra top-level field', { samples: [{ direction: 'usd_to_lbp', rate: 1 }], dry_run: true }],
    ['a JSON string', 'direction,rate\nusd_to_lbp,1'],
    ['a number', 5],
  ])('400 for %s', async (_name, body) => {
    expectError(await post(body), 400, 'VALIDATION_FAILED');
  });

  it('400 without a body', async () => {
    expectError(await t.request('POST', '/admin/rates/import', { token: admin.access }), 400);
  });

  it('CSV (through the service): header, mixed rows, quoted and empty cells', async () => {
    const csv = [
      'direction,rate,usd_volume,created_at',
      'usd_to_lbp,89500,12.50,2026-10-12T08:00:00Z', // 1 ok
      'lbp_to_usd,"89600",,2026-10-12T08:01:00Z', // 2 ok (quoted, empty volume → 1)
      'usd_to_lbp,abc,1,', // 3 rate
      'sideways,89500,1,2026-10-12T08:02:00Z', // 4 direction
      '', // blank lines are skipped
      'usd_to_lbp,89550,1.001,12/10/2026', // 5 usd_volume, created_at
      'usd_to_lbp,89550,1,2026-10-12T08:03:00Z,extra', // 6 row
      'lbp_to_usd,89650', // 7 ok (now)
    ].join('\r\n');
    const res = await t.app
      .get(AdminRatesService)
      .importSamples({ id: admin.id, userName: admin.userName }, { format: 'csv', body: csv }, NO_REQUEST);
    expect(res.imported).toBe(3);
    expect(res.rejected.map((r) => [r.row, [...new Set(r.errors.map((e) => e.field))].sort()])).toEqual([
      [3, ['rate']],
      [4, ['direction']],
      [5, ['created_at', 'usd_volume']],
      [6, ['row']],
    ]);
    const stored = await samplesByIds(res.samples);
    expect(stored.map((s) => [s.direction, s.rate, s.usdVolume, s.source])).toEqual([
      ['usd_to_lbp', 89500, 1250n, 'feed'],
      ['lbp_to_usd', 89600, 100n, 'feed'],
      ['lbp_to_usd', 89650, 100n, 'feed'],
    ]);
    expect(stored[0].createdAt.toISOString()).toBe('2026-10-12T08:00:00.000Z');
  });

  it('CSV with a bad header or an unterminated quote → 400 (through the service)', async () => {
    const sut = t.app.get(AdminRatesService);
    const actor = { id: admin.id, userName: admin.userName };
    for (const body of [
      'usd_to_lbp,89500\n',
      'direction,price\nusd_to_lbp,1\n',
      'direction,rate\n"usd_to_lbp,1\n',
    ])
      await expect(sut.importSamples(actor, { format: 'csv', body }, NO_REQUEST)).rejects.toMatchObject({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
      });
  });

  it('CSV over HTTP with Content-Type: text/csv', async () => {
    const csv = 'direction,rate,usd_volume,created_at\nusd_to_lbp,89500,10,2026-10-15T08:00:00Z\nfoo,1,,\n';
    const res = await t.request('POST', '/admin/rates/import', {
      token: admin.access,
      raw: csv,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json<ImportBody>()).toMatchObject({ imported: 1, flagged: 0, rejected: [{ row: 2 }] });
    const page = await logs(t, admin, 'event_type=ADMIN_RATE_IMPORT&success=true');
    expect(metadata(page.logs[0])).toMatchObject({ format: 'csv', imported: 1 });
  });

  it('401 without a token, 403 for a plain user; nothing stored', async () => {
    const before = await ds.getRepository(RateSampleEntity).count();
    const body = [{ direction: 'usd_to_lbp', rate: 89500 }];
    expectError(await post(body, ''), 401);
    expectError(await post(body, user.access), 403, 'FORBIDDEN_ROLE');
    expect(await ds.getRepository(RateSampleEntity).count()).toBe(before);
  });
});

describe('GET /admin/data-quality', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const DAY = '2026-10-01';
  const ids: Record<string, number> = {};

  interface DataQuality {
    source: string;
    total_transactions: number;
    flagged_count: number;
    anomaly_threshold_percent: number;
    counts_by_direction: { usd_to_lbp: number; lbp_to_usd: number };
    anomalies: {
      sample_id: number;
      transaction_id: number | null;
      direction: string;
      rate: number;
      deviation_percent: number;
      baseline_avg_rate: number;
      source: string;
      created_at: string;
    }[];
  }

  beforeAll(async () => {
    t = await startTestApp({
      ...BASE_ENV,
      OUTLIER_PERCENT: '25',
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '100000000',
      TRANSACTION_RATE_LIMIT: '1000',
    });
    admin = await createAdmin(t);
    user = await createUser(t);
    const manual = async (body: Record<string, unknown>): Promise<SampleBody> => {
      const res = await t.request('POST', '/admin/rates', { token: admin.access, body });
      expect(res.statusCode).toBe(201);
      return res.json<SampleBody>();
    };
    // usd_to_lbp, manual: five normal samples, then a 3x one
    for (const [i, rate] of [89500, 89550, 89600, 89650, 89700].entries())
      await manual({ direction: 'usd_to_lbp', rate, created_at: `${DAY}T08:0${i}:00Z` });
    ids.manualOutlier = (
      await manual({ direction: 'usd_to_lbp', rate: 268800, created_at: `${DAY}T09:00:00Z` })
    ).id;
    // lbp_to_usd, feed: five normal, a 3x one, one more normal
    const feed = [89500, 89550, 89600, 89650, 89700].map((rate, i) => ({
      direction: 'lbp_to_usd',
      rate,
      created_at: `${DAY}T08:0${i}:00Z`,
    }));
    feed.push({ direction: 'lbp_to_usd', rate: 268800, created_at: `${DAY}T10:00:00Z` });
    feed.push({ direction: 'lbp_to_usd', rate: 89610, created_at: `${DAY}T11:00:00Z` });
    const imported = await t.request('POST', '/admin/rates/import', { token: admin.access, body: feed });
    expect(imported.json<ImportBody>()).toMatchObject({ imported: 7, flagged: 1 });
    ids.feedOutlier = imported.json<ImportBody>().samples[5];
    // outside the day
    await manual({ direction: 'usd_to_lbp', rate: 89600, created_at: '2026-10-03T00:00:00Z' });
    // a transaction sample (now), then marked as an outlier by an admin
    const tx = await t.request('POST', '/transaction', {
      token: user.access,
      body: { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true },
    });
    expect(tx.statusCode).toBe(201);
    ids.transaction = tx.json<{ id: number }>().id;
    const sample = await t.app
      .get(DataSource)
      .getRepository(RateSampleEntity)
      .findOneByOrFail({ transactionId: ids.transaction });
    ids.transactionSample = sample.id;
    const marked = await t.request('PATCH', `/admin/rates/${sample.id}`, {
      token: admin.access,
      body: { is_outlier: true, reason: 'wash trade' },
    });
    expect(marked.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const get = async (query: string): Promise<DataQuality> => {
    const res = await t.request('GET', `/admin/data-quality?${query}`, { token: admin.access });
    expect({ query, status: res.statusCode }).toEqual({ query, status: 200 });
    return res.json<DataQuality>();
  };

  it('counts samples and outliers over the range and lists the anomalies newest first', async () => {
    const b = await get(`from=${DAY}&to=${DAY}`);
    expect(b).toMatchObject({
      source: 'all',
      total_transactions: 13,
      flagged_count: 2,
      anomaly_threshold_percent: 25,
      counts_by_direction: { usd_to_lbp: 6, lbp_to_usd: 7 },
    });
    expect(b.anomalies).toEqual([
      {
        sample_id: ids.feedOutlier,
        transaction_id: null,
        direction: 'lbp_to_usd',
        rate: 268800,
        deviation_percent: 200,
        baseline_avg_rate: 89600,
        source: 'feed',
        anomaly_reason: expect.stringContaining('200.0%'),
        anomaly_score: expect.any(Number),
        created_at: `${DAY}T10:00:00.000Z`,
      },
      expect.objectContaining({
        sample_id: ids.manualOutlier,
        direction: 'usd_to_lbp',
        source: 'manual',
        baseline_avg_rate: 89600,
        created_at: `${DAY}T09:00:00.000Z`,
      }),
    ]);
  });

  it('filters combine: source, direction, range', async () => {
    expect(await get(`from=${DAY}&to=${DAY}&source=feed`)).toMatchObject({
      source: 'feed',
      total_transactions: 7,
      flagged_count: 1,
      counts_by_direction: { usd_to_lbp: 0, lbp_to_usd: 7 },
      anomalies: [{ sample_id: ids.feedOutlier }],
    });
    expect(await get(`from=${DAY}&to=${DAY}&source=manual&direction=usd_to_lbp`)).toMatchObject({
      source: 'manual',
      total_transactions: 6,
      flagged_count: 1,
      counts_by_direction: { usd_to_lbp: 6, lbp_to_usd: 0 },
      anomalies: [{ sample_id: ids.manualOutlier }],
    });
    expect(await get(`from=${DAY}&to=${DAY}&source=manual&direction=lbp_to_usd`)).toMatchObject({
      total_transactions: 0,
      flagged_count: 0,
      counts_by_direction: { usd_to_lbp: 0, lbp_to_usd: 0 },
      anomalies: [],
    });
    // a time range inside the day
    expect(await get(`from=${DAY}T08:30:00Z&to=${DAY}T10:00:00Z`)).toMatchObject({
      total_transactions: 2,
      flagged_count: 2,
    });
    // no range: every sample, including the one on the 3rd and the transaction sample marked by an admin
    const all = await get('');
    expect(all).toMatchObject({ total_transactions: 15, flagged_count: 3 });
    expect(all.anomalies[0]).toMatchObject({
      sample_id: ids.transactionSample,
      transaction_id: ids.transaction,
      source: 'transaction',
      rate: 89500,
    });
    expect(await get('source=transaction')).toMatchObject({
      total_transactions: 1,
      flagged_count: 1,
      counts_by_direction: { usd_to_lbp: 1, lbp_to_usd: 0 },
    });
  });

  it('limit and offset page the anomaly list; the counts stay whole', async () => {
    const second = await get(`from=${DAY}&to=${DAY}&limit=1&offset=1`);
    expect(second.flagged_count).toBe(2);
    expect(second.anomalies.map((a) => a.sample_id)).toEqual([ids.manualOutlier]);
    expect((await get(`from=${DAY}&to=${DAY}&offset=2`)).anomalies).toEqual([]);
  });

  it.each([
    'from=2026-10-02&to=2026-10-01',
    'from=yesterday',
    'to=2026-13-01',
    'direction=sideways',
    'source=bank',
    'limit=0',
    'limit=201',
    'offset=-1',
    'page=2',
  ])('400 for ?%s', async (query) => {
    expectError(await t.request('GET', `/admin/data-quality?${query}`, { token: admin.access }), 400);
  });

  it('401 without a token, 403 for a plain user', async () => {
    expectError(await t.request('GET', '/admin/data-quality'), 401);
    expectError(await t.request('GET', '/admin/data-quality', { token: user.access }), 403, 'FORBIDDEN_ROLE');
  });
});
