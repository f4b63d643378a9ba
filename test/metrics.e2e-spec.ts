import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/server-process';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { createAdmin, createUser, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

/**
 * GET /metrics: the token, the families the issue lists with their labels, and label cardinality
 * that does not grow with traffic (route templates, never URLs or ids). Then METRICS_PORT and
 * METRICS_ENABLED=false.
 */

jest.setTimeout(60_000);

const TOKEN = 'metrics-token-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples (comments skipped). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

const seriesKey = (s: Sample) =>
  `${s.name}{${Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;

describe('GET /metrics', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  const scrape = async (): Promise<Sample[]> => {
    const res = await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    return parse(res.body);
  };

  beforeAll(async () => {
    t = await startTestApp({
      METRICS_TOKEN: TOKEN,
      RATE_MIN_CONTRIBUTORS: '1',
      OUTLIER_MIN_SAMPLES: '1',
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '100000000',
      STREAM_TICKET_RATE_LIMIT: '1',
      BACKUP_DIR: mkdtempSync(join(tmpdir(), 'metrics-backups-')),
    });
    alice = await createUser(t, 'm_alice');
    bob = await createUser(t, 'm_bob');
    // some of everything the business metrics count
    expect(
      (await t.request('POST', '/login', { body: { user_name: alice.userName, password: 'wrong-password' } }))
        .statusCode,
    ).toBe(401);
    const rec = await t.request('POST', '/transaction', {
      token: bob.access,
      body: { usd_amount: 100, lbp_amount: 8_950_000, usd_to_lbp: true },
    });
    expect(rec.statusCode).toBe(201);
    const alert = await t.request('POST', '/alerts', {
      token: alice.access,
      body: { direction: 'usd_to_lbp', condition: 'above', threshold: 89_000 },
    });
    expect(alert.statusCode).toBe(201);
    await t.request('POST', '/transaction', {
      token: bob.access,
      body: { usd_amount: 100, lbp_amount: 8_960_000, usd_to_lbp: true },
    });
    const offer = await t.request('POST', '/market/offers', {
      token: bob.access,
      body: { give_currency: 'USD', give_amount: 10, want_currency: 'LBP', want_amount: 895_000 },
    });
    expect(offer.statusCode).toBe(201);
    await t.request('POST', '/market/offers', {
      token: bob.access,
      body: { give_currency: 'USD', give_amount: 10, want_currency: 'LBP', want_amount: 896_000 },
    });
    const take = await t.request('POST', `/market/offers/${offer.json<{ id: number }>().id}/accept`, {
      token: alice.access,
    });
    expect(take.statusCode).toBe(201);
    // an outlier refused
    const outlier = await t.request('POST', '/transaction', {
      token: alice.access,
      body: { usd_amount: 100, lbp_amount: 100 * 200_000, usd_to_lbp: true },
    });
    expect(outlier.statusCode).toBe(422);
    // a rate-limit hit (one stream ticket per window here)
    expect((await t.request('POST', '/stream/ticket', { token: alice.access })).statusCode).toBe(201);
    expect((await t.request('POST', '/stream/ticket', { token: alice.access })).statusCode).toBe(429);
    // a conversion against the house
    const quote = await t.request('POST', '/quotes', {
      token: alice.access,
      body: { from_currency: 'USD', to_currency: 'LBP', from_amount: 5 },
    });
    expect(quote.statusCode).toBe(201);
    const convert = await t.request('POST', '/wallet/convert', {
      token: alice.access,
      body: { quote_id: quote.json<{ id: number }>().id },
    });
    expect(convert.statusCode).toBe(201);
    // a scheduled job run and a backup
    const scheduler = t.app.get(SchedulerService);
    expect(await scheduler.runJob('offer-expiry', 'metrics-test')).toBe(true);
    const admin = await createAdmin(t);
    expect((await t.request('POST', '/admin/backup', { token: admin.access })).statusCode).toBe(201);
    expect((await t.request('GET', '/whoami', { token: alice.access })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses without METRICS_TOKEN (401), with a wrong one, and with a user’s access token', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-0123456789abcdef' },
      { authorization: `Bearer ${alice.access}` },
      { authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const res = await t.request('GET', '/metrics', { headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'METRICS_TOKEN_REQUIRED', statusCode: 401 });
    }
  });

  it('serves the Prometheus text format with the families and labels of the issue', async () => {
    const res = await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    const samples = parse(res.body);
    const names = new Set(samples.map((s) => s.name));
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    // the process
    for (const n of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(names).toContain(n);
    }
    // HTTP by method, route template and status class
    expect(
      find('http_requests_total', { method: 'GET', route: '/whoami', status_class: '2xx' })[0]?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      find('http_requests_total', { method: 'POST', route: '/login', status_class: '4xx' })[0]?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      find('http_requests_total', {
        method: 'POST',
        route: '/market/offers/:id/accept',
        status_class: '2xx',
      }),
    ).toHaveLength(1);
    expect(
      find('http_request_duration_seconds_bucket', {
        method: 'GET',
        route: '/whoami',
        status_class: '2xx',
        le: '+Inf',
      })[0]?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(find('http_request_duration_seconds_count', { route: '/whoami' }).length).toBeGreaterThan(0);
    for (const s of samples.filter((x) => x.name.startsWith('http_request'))) {
      expect(
        Object.keys(s.labels)
          .filter((k) => k !== 'le')
          .sort(),
      ).toEqual(['method', 'route', 'status_class']);
      expect(s.labels.status_class).toMatch(/^[1-5]xx$/);
    }
    // the database pool
    for (const state of ['in_use', 'idle', 'waiting'])
      expect(find('exchange_db_pool_connections', { state })).toHaveLength(1);
    // business counters and gauges
    expect(find('exchange_transactions_recorded_total', { direction: 'usd_to_lbp' })[0]?.value).toBe(2);
    expect(find('exchange_conversions_total', { from_currency: 'USD' })[0]?.value).toBe(1);
    expect(find('exchange_trades_total')[0]?.value).toBe(1);
    expect(find('exchange_offers_open')[0]?.value).toBe(1);
    expect(find('exchange_alerts_fired_total')[0]?.value).toBe(1);
    expect(find('exchange_notifications_created_total', { event_type: 'ALERT_TRIGGERED' })[0]?.value).toBe(1);
    expect(find('exchange_outliers_flagged_total', { outcome: 'refused' })[0]?.value).toBe(1);
    expect(find('exchange_login_failures_total')[0]?.value).toBeGreaterThanOrEqual(1);
    expect(find('exchange_rate_limit_hits_total', { group: 'stream' })[0]?.value).toBe(1);
    expect(find('exchange_scheduler_job_runs_total', { job: 'offer-expiry', outcome: 'ok' })[0]?.value).toBe(
      1,
    );
    expect(
      find('exchange_scheduler_job_duration_seconds_count', { job: 'offer-expiry', outcome: 'ok' })[0]?.value,
    ).toBe(1);
    expect(find('exchange_scheduler_lease_held', { job: 'offer-expiry' })[0]?.value).toBe(0);
    const age = find('exchange_backup_age_seconds')[0]?.value;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    expect(find('exchange_rate_limit_fallback')[0]?.value).toBe(0);
    expect(find('exchange_streams_open')[0]?.value).toBe(0);
  });

  it('labels never carry a URL or an id: 1,000 distinct unknown paths and ids add no series', async () => {
    const ids = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);
    const traffic = async (n: number, from: number) => {
      for (const i of ids(n, from)) {
        await t.request('GET', `/no/such/path/${i}?q=${i}`);
        await t.request('GET', `/market/offers/${1_000_000 + i}`, { token: alice.access });
        await t.request('PATCH', `/notifications/${1_000_000 + i}/read`, { token: alice.access });
        await t.request('GET', `/users/${i}/secret`, { token: alice.access });
        await t.request('DELETE', `/coffee/${i}`);
      }
    };
    await traffic(5, 0); // every kind of answer once, so its series exist
    const before = new Set((await scrape()).map(seriesKey));
    await traffic(1_000, 10);
    const after = new Set((await scrape()).map(seriesKey));
    // the runtime's own families gain a series per kind of garbage collection as they happen (a
    // fixed, small set); ours must not gain any
    const ours = (k: string) => !k.startsWith('nodejs_') && !k.startsWith('process_');
    const added = [...after].filter((k) => ours(k) && !before.has(k));
    expect(added).toEqual([]);
    const routes = new Set(
      [...after].filter((k) => k.startsWith('http_requests_total')).map((k) => /route=([^,}]*)/.exec(k)?.[1]),
    );
    for (const r of routes) {
      expect(r).not.toMatch(/\d{3,}/); // no id, no raw URL
    }
    expect(routes).toContain('unmatched');
    expect(routes).toContain('/market/offers/:id');
  });
});

describe('METRICS_PORT and METRICS_ENABLED', () => {
  it('METRICS_PORT serves /metrics on 127.0.0.1 without a token, and nothing else', async () => {
    const port = await freePort();
    const t = await startTestApp({ METRICS_PORT: String(port) });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('http_requests_total');
      expect((await fetch(`http://127.0.0.1:${port}/whoami`)).status).toBe(404);
      // the main port still wants the token (none configured here: nobody holds it)
      expect((await t.request('GET', '/metrics')).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('METRICS_ENABLED=false: GET /metrics is 404 METRICS_DISABLED', async () => {
    const t = await startTestApp({ METRICS_ENABLED: 'false', METRICS_TOKEN: TOKEN });
    try {
      const res = await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('METRICS_DISABLED');
    } finally {
      await t.close();
    }
  });
});
