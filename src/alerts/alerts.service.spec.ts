import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { Clock } from '../common/clock';
import { MaintenanceState } from '../common/maintenance';
import type { TransactionRunner } from '../database/transaction-runner';
import type { NewNotification, NotificationsService } from '../notifications/notifications.service';
import type { ReferenceRateService } from '../rates/reference-rate.service';
import type { Direction } from '../rates/rate-sample.entity';
import type { UsersService } from '../users/users.service';
import type { AlertEntity } from './alert.entity';
import type { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const m = {} as EntityManager;

function alert(id: number, patch: Partial<AlertEntity> = {}): AlertEntity {
  return {
    id,
    userId: 100 + id,
    direction: 'usd_to_lbp',
    condition: 'above',
    threshold: 89000,
    isActive: true,
    triggeredAt: null,
    triggerRate: null,
    createdAt: NOW,
    ...patch,
  };
}

describe('AlertsService.evaluate', () => {
  let rates: { usd_to_lbp: number | null; lbp_to_usd: number | null };
  let met: Map<Direction, AlertEntity[]>;
  let firedIds: Set<number>;
  let notified: NewNotification[];
  let findMet: jest.Mock;
  let sut: AlertsService;
  let maintenance: MaintenanceState;

  beforeEach(() => {
    rates = { usd_to_lbp: 89500, lbp_to_usd: null };
    met = new Map();
    firedIds = new Set();
    notified = [];
    findMet = jest.fn((d: Direction, _rate: number, afterId: number) =>
      Promise.resolve((met.get(d) ?? []).filter((a) => a.id > afterId)),
    );
    const repo = {
      findMet,
      // the conditional update: only the first call per id affects a row
      fire: jest.fn((id: number) => {
        if (firedIds.has(id)) return Promise.resolve(false);
        firedIds.add(id);
        return Promise.resolve(true);
      }),
    } as unknown as AlertsRepository;
    const reference = {
      published: () =>
        Promise.resolve({ usd_to_lbp: { rate: rates.usd_to_lbp }, lbp_to_usd: { rate: rates.lbp_to_usd } }),
    } as unknown as ReferenceRateService;
    const notifications = {
      notify: jest.fn((n: NewNotification) => {
        notified.push(n);
        return Promise.resolve(true);
      }),
    } as unknown as NotificationsService;
    const audit = { record: jest.fn(() => Promise.resolve()) } as unknown as AuditService;
    const tx = { run: <T>(fn: (em: EntityManager) => Promise<T>) => fn(m) } as TransactionRunner;
    const clock: Clock = { now: () => NOW };
    maintenance = new MaintenanceState();
    sut = new AlertsService(
      repo,
      reference,
      {} as UsersService,
      notifications,
      audit,
      tx,
      clock,
      maintenance,
    );
  });

  it('fires the met alerts once each and notifies their owners with ref (alert, id) and no occasion', async () => {
    met.set('usd_to_lbp', [alert(1), alert(2, { condition: 'below', threshold: 89500 })]);
    expect(await sut.evaluate('usd_to_lbp')).toBe(2);
    expect(notified).toEqual([
      expect.objectContaining({
        userId: 101,
        eventType: 'ALERT_TRIGGERED',
        refType: 'alert',
        refId: 1,
        occasion: '',
      }),
      expect.objectContaining({
        userId: 102,
        eventType: 'ALERT_TRIGGERED',
        refType: 'alert',
        refId: 2,
        occasion: '',
      }),
    ]);
    expect(findMet).toHaveBeenCalledWith('usd_to_lbp', 89500, 0, expect.any(Number));
    // a second evaluation loses every conditional update: nothing fires, nobody is notified again
    expect(await sut.evaluate('usd_to_lbp')).toBe(0);
    expect(notified).toHaveLength(2);
  });

  it('skips a direction without market data and evaluates both directions in the sweep', async () => {
    met.set('lbp_to_usd', [alert(3, { direction: 'lbp_to_usd' })]);
    expect(await sut.sweep()).toBe(0);
    expect(findMet).toHaveBeenCalledTimes(1);
    expect(findMet).toHaveBeenCalledWith('usd_to_lbp', 89500, 0, expect.any(Number));
    rates.lbp_to_usd = 90000;
    expect(await sut.sweep()).toBe(1);
  });

  it('pages through many met alerts by id', async () => {
    met.set(
      'usd_to_lbp',
      Array.from({ length: 450 }, (_, i) => alert(i + 1)),
    );
    findMet.mockImplementation((d: Direction, _rate: number, afterId: number, limit: number) =>
      Promise.resolve((met.get(d) ?? []).filter((a) => a.id > afterId).slice(0, limit)),
    );
    expect(await sut.evaluate('usd_to_lbp')).toBe(450);
    expect(new Set(notified.map((n) => n.refId)).size).toBe(450);
  });

  it('evaluateAfterCommit logs a failure instead of throwing it', async () => {
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    findMet.mockRejectedValue(new Error('db down'));
    await expect(sut.evaluateAfterCommit('usd_to_lbp')).resolves.toBeUndefined();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('db down'));
    log.mockRestore();
  });

  it('evaluateAfterCommit: concurrent callers share evaluations', async () => {
    met.set('usd_to_lbp', [alert(1)]);
    await Promise.all(Array.from({ length: 10 }, () => sut.evaluateAfterCommit('usd_to_lbp')));
    // one run for the first caller, one shared by the nine that came while it ran; that second run
    // finds the published rate unchanged since the first and skips the alert query
    expect(findMet.mock.calls.filter(([d]) => d === 'usd_to_lbp')).toHaveLength(1);
    expect(notified).toHaveLength(1);
  });

  it('evaluateAfterCommit queries again when the rate moved, an alert was created, or data was restored', async () => {
    const calls = () => findMet.mock.calls.filter(([d]) => d === 'usd_to_lbp').length;
    await sut.evaluateAfterCommit('usd_to_lbp');
    await sut.evaluateAfterCommit('usd_to_lbp');
    expect(calls()).toBe(1); // same rate, nothing new: skipped
    rates.usd_to_lbp = 89600;
    await sut.evaluateAfterCommit('usd_to_lbp');
    expect(calls()).toBe(2);
    // an alert created (its commit bumps the version) at the same rate is evaluated at once
    const afterCommit: Array<() => void> = [];
    (sut as unknown as { tx: TransactionRunner }).tx = {
      run: <T>(fn: (em: EntityManager) => Promise<T>) => fn(m),
      afterCommit: (_m: EntityManager, f: () => void) => afterCommit.push(f),
    } as unknown as TransactionRunner;
    Object.assign((sut as unknown as { repo: object }).repo, {
      countActiveByUser: () => Promise.resolve(0),
      insert: (a: Partial<AlertEntity>) => Promise.resolve({ ...alert(7), ...a }),
    });
    await sut.create(
      { id: 107, username: 'u7', role: 'user' } as never,
      {
        direction: 'usd_to_lbp',
        condition: 'above',
        threshold: 89000,
      } as never,
      {} as never,
    );
    await sut.evaluateAfterCommit('usd_to_lbp');
    expect(calls()).toBe(2); // not committed yet: nothing new seen
    afterCommit.forEach((f) => f());
    met.set('usd_to_lbp', [alert(7)]);
    await sut.evaluateAfterCommit('usd_to_lbp');
    expect(calls()).toBe(3);
    expect(notified.map((n) => n.refId)).toEqual([7]);
    await sut.evaluateAfterCommit('usd_to_lbp');
    expect(calls()).toBe(3);
    maintenance.dataReplaced();
    await sut.evaluateAfterCommit('usd_to_lbp');
    expect(calls()).toBe(4);
  });
});
