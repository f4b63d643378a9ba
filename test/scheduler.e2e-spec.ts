import { MaintenanceState } from '../src/common/maintenance';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { Clock } from '../src/common/clock';
import { IdempotencyKeyEntity } from '../src/common/idempotency/idempotency-key.entity';
import { METRICS } from '../src/metrics/metrics';
import { LeaseService } from '../src/scheduler/lease.service';
import { SchedulerService } from '../src/scheduler/scheduler.service';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(60_000);

async function jobRunsFailed(job: string): Promise<number> {
  const { values } = await METRICS.jobRuns.get();
  return values.find((v) => v.labels.job === job && v.labels.outcome === 'failed')?.value ?? 0;
}

describe('scheduler leases', () => {
  let t: TestApp;
  let leases: LeaseService;

  beforeAll(async () => {
    t = await startTestApp({ SCHEDULER_LEASE_SECONDS: '60' });
    leases = t.app.get(LeaseService);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it('of 10 instances claiming one job at the same moment exactly one holds the lease', async () => {
    const holders = Array.from({ length: 10 }, (_, i) => `instance-${i}`);
    const won = await Promise.all(holders.map((h) => leases.tryAcquire('race-job', h)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = holders[won.indexOf(true)];
    expect((await leases.find('race-job'))?.holder).toBe(winner);
    // the holder may renew; the others still cannot take it
    expect(await leases.tryAcquire('race-job', winner)).toBe(true);
    expect(await leases.tryAcquire('race-job', holders.find((h) => h !== winner) ?? '')).toBe(false);
  });

  it('a lease whose holder died is taken over once it expires, not before', async () => {
    const clock = t.app.get(Clock);
    const start = new Date('2026-11-25T12:00:00.000Z');
    jest.spyOn(clock, 'now').mockReturnValue(start);
    expect(await leases.tryAcquire('crash-job', 'dead-instance')).toBe(true);
    jest.spyOn(clock, 'now').mockReturnValue(new Date(start.getTime() + 59_000));
    expect(await leases.tryAcquire('crash-job', 'survivor')).toBe(false);
    jest.spyOn(clock, 'now').mockReturnValue(new Date(start.getTime() + 60_000));
    expect(await leases.tryAcquire('crash-job', 'survivor')).toBe(true);
    expect((await leases.find('crash-job'))?.holder).toBe('survivor');
  });

  it('a job runs only under its lease and releases it afterwards; the purge job drops expired idempotency keys', async () => {
    const sched = t.app.get(SchedulerService);
    const ds = t.app.get(DataSource);
    const now = t.app.get(Clock).now();
    await ds.getRepository(IdempotencyKeyEntity).insert([
      {
        userId: 1,
        idemKey: 'old',
        requestHash: 'h',
        state: 'DONE',
        responseStatus: 201,
        responseBody: '{}',
        createdAt: new Date(now.getTime() - 2 * 86_400_000),
        expiresAt: new Date(now.getTime() - 86_400_000),
      },
      {
        userId: 1,
        idemKey: 'fresh',
        requestHash: 'h',
        state: 'DONE',
        responseStatus: 201,
        responseBody: '{}',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 86_400_000),
      },
    ]);
    expect(await leases.tryAcquire('idempotency-purge', 'other-instance')).toBe(true);
    expect(await sched.runJob('idempotency-purge', 'me')).toBe(false);
    expect(await ds.getRepository(IdempotencyKeyEntity).count()).toBe(2);
    await leases.release('idempotency-purge', 'other-instance');
    // not while a restore is replacing the data here
    const skipped = await t.app.get(MaintenanceState).during(() => sched.runJob('idempotency-purge', 'me'));
    expect(skipped).toBe(false);
    expect(await ds.getRepository(IdempotencyKeyEntity).count()).toBe(2);
    expect(await sched.runJob('idempotency-purge', 'me')).toBe(true);
    expect((await ds.getRepository(IdempotencyKeyEntity).find()).map((k) => k.idemKey)).toEqual(['fresh']);
    // released after the run: the next instance can take it at once
    expect(await leases.tryAcquire('idempotency-purge', 'next')).toBe(true);
  });

  it('a cron tick while the database is away (its lease cannot be asked for) is logged and counted, never an unhandled rejection', async () => {
    const sched = t.app.get(SchedulerService);
    const lost = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', fatal: true });
    jest.spyOn(leases, 'tryAcquire').mockRejectedValue(lost);
    const failedBefore = await jobRunsFailed('stream-ticket-purge');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(await sched.tick('stream-ticket-purge')).toBe(false);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(await jobRunsFailed('stream-ticket-purge')).toBe(failedBefore + 1);
    // runJob itself still rejects: its callers other than the timers (the tests) see the error
    await expect(sched.runJob('stream-ticket-purge', 'me')).rejects.toThrow('ECONNRESET');
    jest.restoreAllMocks();
    expect(await sched.tick('stream-ticket-purge')).toBe(true);
  });

  it('no cron job is registered while SCHEDULER_ENABLED is false (tests)', () => {
    expect(t.config.scheduler.enabled).toBe(false);
    expect(t.app.get(SchedulerRegistry).getCronJobs().size).toBe(0);
  });
});

describe('scheduler enabled', () => {
  let t: TestApp;
  const backupDir = mkdtempSync(join(tmpdir(), 'sched-backups-'));

  beforeAll(async () => {
    t = await startTestApp({
      SCHEDULER_ENABLED: 'true',
      CRON_WATCHLIST_SWEEP: '*/7 * * * *',
      CRON_OFFER_EXPIRY: '*/2 * * * *',
      BACKUP_CRON: '0 3 * * *',
      CRON_WEBHOOK_SWEEP: '*/9 * * * * *',
      BACKUP_DIR: backupDir,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers every job with its configured cron expression, running', () => {
    const jobs = t.app.get(SchedulerRegistry).getCronJobs();
    expect([...jobs.keys()].sort()).toEqual([
      'alerts-sweep',
      'backup',
      'idempotency-purge',
      'offer-expiry',
      'stream-ticket-purge',
      'watchlist-sweep',
      'webhook-delivery',
    ]);
    expect(jobs.get('watchlist-sweep')?.cronTime.source).toBe('*/7 * * * *');
    expect(jobs.get('webhook-delivery')?.cronTime.source).toBe('*/9 * * * * *');
    expect(jobs.get('offer-expiry')?.cronTime.source).toBe('*/2 * * * *');
    expect(jobs.get('backup')?.cronTime.source).toBe('0 3 * * *');
    expect(jobs.get('alerts-sweep')?.isActive).toBe(true);
  });

  it('a registered cron job firing while its lease cannot be asked for (database away) leaves no unhandled rejection', async () => {
    const lost = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', fatal: true });
    const acquire = jest.spyOn(t.app.get(LeaseService), 'tryAcquire').mockRejectedValue(lost);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    let asked = 0;
    process.on('unhandledRejection', onUnhandled);
    try {
      // what the cron timer does on its tick
      await t.app.get(SchedulerRegistry).getCronJob('stream-ticket-purge').fireOnTick();
      await new Promise((r) => setTimeout(r, 50));
      asked = acquire.mock.calls.length;
    } finally {
      process.off('unhandledRejection', onUnhandled);
      acquire.mockRestore();
    }
    expect(asked).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
  });

  it('the backup job (BACKUP_CRON) writes a backup under its lease', async () => {
    expect(await t.app.get(SchedulerService).runJob('backup', 'test')).toBe(true);
    expect(readdirSync(backupDir).filter((f) => f.startsWith('backup_'))).toHaveLength(1);
  });
});
