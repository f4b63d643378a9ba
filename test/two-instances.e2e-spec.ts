import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AlertsService } from '../src/alerts/alerts.service';
import { TransactionRunner } from '../src/database/transaction-runner';
import { NotificationEntity } from '../src/notifications/notification.entity';
import { RatesService } from '../src/rates/rates.service';
import { ReferenceRateService } from '../src/rates/reference-rate.service';
import { LeaseService } from '../src/scheduler/lease.service';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { createAdmin, createUser } from './factories/users';
import { E2E_DB, startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

/**
 * Two app instances on one MariaDB/MySQL database (the multi-instance deployment; embedded SQLite is
 * single-instance by design, so this runs in the MariaDB e2e pass) sweeping at the
 * same moment: only one holds a job's lease at a time, and each notification is stored once even
 * when both evaluate the same alerts. Only instance A serves HTTP here (passport's strategy is
 * process-global); B is used through its services, as its scheduler would.
 */
(E2E_DB === 'mysql' ? describe : describe.skip)('two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let dir: string | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'two-instances-'));
    a = await startTestApp(
      { OUTLIER_BASELINE_CACHE_SECONDS: '0' },
      { sqliteFile: join(dir, 'shared.sqlite') },
    );
    b = await startTestApp(
      { OUTLIER_BASELINE_CACHE_SECONDS: '0', MIGRATIONS_RUN: 'false' },
      { sameDatabaseAs: a },
    );
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the sweep runs on one instance at a time and every alert notifies exactly once', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => createUser(a)));
    const ids: number[] = [];
    for (const u of users) {
      for (const threshold of [80000, 85000]) {
        const res = await a.request('POST', '/alerts', {
          token: u.access,
          body: { direction: 'usd_to_lbp', condition: 'above', threshold },
        });
        expect(res.statusCode).toBe(201);
        ids.push(res.json().id as number);
      }
    }
    // move the market above every threshold without triggering the after-commit evaluation: three
    // admin samples, each a contributor of its own, publish a reference of 89,500
    await a.app.get(TransactionRunner).run(async (m) => {
      for (let i = 0; i < 3; i++)
        await a.app
          .get(RatesService)
          .record({ direction: 'usd_to_lbp', rate: 89500, source: 'manual', usdVolume: 10000n }, m);
    });
    const leasesA = a.app.get(LeaseService);
    const leasesB = b.app.get(LeaseService);
    expect(leasesA.holder).not.toBe(leasesB.holder);

    // both schedulers fire the job at the same moment, several times: the lease lets one run each round
    for (let round = 0; round < 3; round++) {
      const ran = await Promise.all([
        a.app.get(SchedulerService).runJob('alerts-sweep'),
        b.app.get(SchedulerService).runJob('alerts-sweep'),
      ]);
      expect(ran.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      if (round === 0) expect(ran.filter(Boolean)).toHaveLength(1);
    }
    // and even bypassing the lease, evaluating on both at once cannot notify twice
    await Promise.all([a.app.get(AlertsService).sweep(), b.app.get(AlertsService).sweep()]);

    const rows = await a.app
      .get(DataSource)
      .getRepository(NotificationEntity)
      .find({ where: { eventType: 'ALERT_TRIGGERED' } });
    expect(rows.map((r) => r.refId).sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
    for (const u of users) {
      const mine = await a.request('GET', '/alerts', { token: u.access });
      for (const alert of mine.json()) expect(alert).toMatchObject({ is_active: false, trigger_rate: 89500 });
    }
  });

  it('a lease held by a crashed instance passes to the other one after it expires', async () => {
    const job = 'watchlist-sweep';
    expect(await a.app.get(LeaseService).tryAcquire(job)).toBe(true); // A "crashes" holding it
    expect(await b.app.get(SchedulerService).runJob(job)).toBe(false);
    const ds = a.app.get(DataSource);
    // time passes beyond the lease
    await ds.query('UPDATE scheduler_leases SET expires_at = ? WHERE job_name = ?', [
      a.db === 'mysql'
        ? new Date(Date.now() - 1000)
        : new Date(Date.now() - 1000).toISOString().replace('T', ' ').replace('Z', ''),
      job,
    ]);
    expect(await b.app.get(SchedulerService).runJob(job)).toBe(true);
  });

  it('the live reference: B reads only what changed, and drops a contributor A suspends within 2 x MARKET_RATE_CACHE_MS, without Redis', async () => {
    const refB = b.app.get(ReferenceRateService);
    const admin = await createAdmin(a);
    const recorders = await Promise.all(Array.from({ length: 4 }, () => createUser(a)));
    const rates = [88_100, 88_200, 88_300, 88_900];
    for (const [i, u] of recorders.entries()) {
      const res = await a.request('POST', '/transaction', {
        token: u.access,
        body: { usd_amount: 100, lbp_amount: rates[i] * 100, usd_to_lbp: false },
      });
      expect(res.statusCode).toBe(201);
    }
    const ttl = b.config.rates.marketRateCacheMs;
    const within = async <T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 2 * ttl + 1500;
      let v = await read();
      while (!ok(v) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        v = await read();
      }
      return v;
    };
    const buy = async () => (await refB.published()).lbp_to_usd;
    // B has not been told of A's commits: it finds them with its next reads
    const before = refB.loadCounts();
    const seen = await within(buy, (r) => r.contributors >= 4);
    expect(seen.contributors).toBeGreaterThanOrEqual(4);
    const afterSeen = refB.loadCounts();
    // a full load at most once at the start; the rest are steps
    expect(afterSeen.full - before.full).toBeLessThanOrEqual(2);
    const contributors = seen.contributors;
    // A suspends the highest; B hears nothing (no Redis), yet the epoch sends it to a full load
    const s = await a.request('PUT', `/admin/users/${recorders[3].id}/status`, {
      token: admin.access,
      body: { status: 'SUSPENDED' },
    });
    expect(s.statusCode).toBe(200);
    const dropped = await within(buy, (r) => r.contributors === contributors - 1);
    expect(dropped.contributors).toBe(contributors - 1);
    expect(refB.loadCounts().full).toBeGreaterThan(afterSeen.full);
  });
});
