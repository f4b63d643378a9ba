import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { Coalescer } from '../common/coalescer';
import { MaintenanceState } from '../common/maintenance';
import type { RequestMeta } from '../common/http/request-meta';
import type { Page } from '../common/pagination';
import { TransactionRunner } from '../database/transaction-runner';
import { NotificationsService } from '../notifications/notifications.service';
import { ReferenceRateService } from '../rates/reference-rate.service';
import { DIRECTIONS, type Direction } from '../rates/rate-sample.entity';
import { UsersService } from '../users/users.service';
import { METRICS } from '../metrics/metrics';
import type { AlertEntity } from './alert.entity';
import { AlertNotFoundError } from './alerts.errors';
import { AlertsRepository } from './alerts.repository';
import type { CreateAlertDto, CurrentRatesDto } from './dto/alert.dto';
import { BusinessRuleError } from '../common/errors/app-error';

/** A user's active alerts are capped, so one account cannot make every sweep expensive. */
export const MAX_ACTIVE_ALERTS_PER_USER = 100;

export const ALERT_TRIGGERED = 'ALERT_TRIGGERED';
/** Alerts read per query while evaluating; each page is fired in one transaction. */
const EVALUATE_BATCH = 200;

const summary = (a: Pick<AlertEntity, 'direction' | 'condition' | 'threshold'>): string =>
  `${a.direction} ${a.condition} ${a.threshold}`;

/** One-shot rate alerts: CRUD, and evaluation after each rate-moving sample and in the sweep. */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);
  /** Per direction, evaluations after commits are coalesced (see evaluateAfterCommit). */
  private readonly afterCommit: Record<Direction, Coalescer<number>> = {
    usd_to_lbp: new Coalescer(() => this.evaluateIfChanged('usd_to_lbp')),
    lbp_to_usd: new Coalescer(() => this.evaluateIfChanged('lbp_to_usd')),
  };
  /** Bumped by every alert created here: an evaluation must not be skipped for one it has not seen. */
  private alertsVersion = 0;
  /** Per direction, the published rate and alerts version of the last completed evaluation after a commit. */
  private readonly lastEvaluated: Partial<Record<Direction, { rate: number; version: number }>> = {};

  constructor(
    private readonly repo: AlertsRepository,
    private readonly reference: ReferenceRateService,
    private readonly users: UsersService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    maintenance: MaintenanceState,
  ) {
    // a restore brings other alerts: the next evaluation must not be skipped
    maintenance.onDataReplaced(() => {
      this.alertsVersion += 1;
    });
  }

  create(actor: AuditActor & { id: number }, dto: CreateAlertDto, meta: RequestMeta): Promise<AlertEntity> {
    return this.tx.run(async (m) => {
      if ((await this.repo.countActiveByUser(actor.id, m)) >= MAX_ACTIVE_ALERTS_PER_USER) {
        throw new BusinessRuleError(
          'ALERT_LIMIT_REACHED',
          `You can have at most ${MAX_ACTIVE_ALERTS_PER_USER} active alerts.`,
        );
      }
      const alert = await this.repo.insert(
        {
          userId: actor.id,
          direction: dto.direction,
          condition: dto.condition,
          threshold: dto.threshold,
          isActive: true,
          triggeredAt: null,
          triggerRate: null,
          createdAt: this.clock.now(),
        },
        m,
      );
      await this.audit.record(
        {
          event: AuditEvent.ALERT_CREATE,
          action: 'create alert',
          success: true,
          statusCode: 201,
          message: summary(alert),
          actor,
          targetUserId: actor.id,
          metadata: { alert_id: alert.id, ...this.auditFields(alert) },
          request: meta,
        },
        m,
      );
      this.tx.afterCommit(m, () => {
        this.alertsVersion += 1;
      });
      return alert;
    });
  }

  list(userId: number, page: Page): Promise<{ rows: AlertEntity[]; total: number }> {
    return this.repo.listByUser(userId, page);
  }

  /** A user's alerts for an admin; an unknown user is 404. */
  async listForUser(userId: number, page: Page): Promise<{ rows: AlertEntity[]; total: number }> {
    await this.users.getById(userId);
    return this.repo.listByUser(userId, page);
  }

  /** The market rates now and the user's fired alerts with the rate each fired at. */
  async triggered(userId: number, page: Page): Promise<{ rates: CurrentRatesDto; rows: AlertEntity[] }> {
    const [rates, rows] = await Promise.all([this.currentRates(), this.repo.listTriggered(userId, page)]);
    return { rates, rows };
  }

  /** Deletes one of the user's alerts; another user's is 404 like a missing one. */
  delete(actor: AuditActor & { id: number }, id: number, meta: RequestMeta): Promise<AlertEntity> {
    return this.remove(id, actor.id, actor, meta);
  }

  /** Deletes any user's alert (admin). */
  adminDelete(actor: AuditActor, id: number, meta: RequestMeta): Promise<AlertEntity> {
    return this.remove(id, null, actor, meta);
  }

  /**
   * Fires every active alert (of one direction, or both) whose condition the current market rate
   * meets. Each fires once whoever evaluates concurrently: a conditional update decides, and the
   * notification and audit row commit with it. Returns how many this call fired.
   */
  async evaluate(direction?: Direction): Promise<number> {
    const rates = await this.currentRates();
    let fired = 0;
    for (const d of direction ? [direction] : DIRECTIONS) {
      const rate = rates[d];
      if (rate !== null) fired += await this.fireMet(d, rate);
    }
    return fired;
  }

  /** The scheduled job: both directions. */
  sweep(): Promise<number> {
    return this.evaluate();
  }

  /**
   * For callers that just committed a rate-moving sample (in the same request, as the contract asks;
   * the commit already added the sample to the live reference, see ReferenceRateService). Concurrent
   * callers share one evaluation that started after their commit, so a burst of N transactions costs
   * about two evaluations, not N, and each caller still returns only once its own sample has been
   * judged against the alerts. Logs instead of throwing, because the caller's own work is already
   * committed and must still be reported done.
   */
  async evaluateAfterCommit(direction: Direction): Promise<void> {
    try {
      await this.afterCommit[direction].run();
    } catch (err) {
      this.logger.error(
        `alert evaluation for ${direction} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }

  /**
   * After a commit: evaluates unless the published rate is the one this instance last evaluated at
   * and no alert was created here since. Any alert met at that rate fired then (they fire once), so
   * the query would find nothing; a record that leaves the reference where it is costs no alert
   * query. Alerts created on another instance are caught by the sweep (every minute), as before.
   */
  private async evaluateIfChanged(direction: Direction): Promise<number> {
    const version = this.alertsVersion;
    const rate = (await this.currentRates())[direction];
    if (rate === null) return 0;
    const last = this.lastEvaluated[direction];
    if (last && last.rate === rate && last.version === version) return 0;
    const fired = await this.fireMet(direction, rate);
    this.lastEvaluated[direction] = { rate, version };
    return fired;
  }

  private async currentRates(): Promise<CurrentRatesDto> {
    // The same figure GET /exchangeRate shows (the reference rate, 6 decimals).
    const r = await this.reference.published();
    return { usd_to_lbp: r.usd_to_lbp.rate, lbp_to_usd: r.lbp_to_usd.rate };
  }

  private async fireMet(direction: Direction, rate: number): Promise<number> {
    let fired = 0;
    let afterId = 0;
    for (;;) {
      const due = await this.repo.findMet(direction, rate, afterId, EVALUATE_BATCH);
      if (due.length === 0) {
        METRICS.alertsFired.inc(fired);
        return fired;
      }
      fired += await this.tx.run(async (m) => {
        const now = this.clock.now();
        let n = 0;
        for (const alert of due) if (await this.fire(alert, rate, now, m)) n++;
        return n;
      });
      if (due.length < EVALUATE_BATCH) {
        METRICS.alertsFired.inc(fired);
        return fired;
      }
      afterId = due[due.length - 1].id;
    }
  }

  private async fire(alert: AlertEntity, rate: number, now: Date, m: EntityManager): Promise<boolean> {
    if (!(await this.repo.fire(alert.id, rate, now, m))) return false;
    const verb = alert.condition === 'above' ? 'reached or rose above' : 'reached or fell below';
    await this.notifications.notify(
      {
        userId: alert.userId,
        eventType: ALERT_TRIGGERED,
        title: `Rate alert: ${alert.direction} ${alert.condition} ${alert.threshold}`,
        message: `The ${alert.direction} market rate is ${rate} LBP per USD; it ${verb} your threshold of ${alert.threshold}.`,
        refType: 'alert',
        refId: alert.id,
        occasion: '',
      },
      m,
    );
    await this.audit.record(
      {
        event: AuditEvent.ALERT_TRIGGERED,
        action: 'alert triggered',
        success: true,
        message: `${summary(alert)} fired at ${rate}`,
        targetUserId: alert.userId,
        metadata: { alert_id: alert.id, ...this.auditFields(alert), trigger_rate: rate },
      },
      m,
    );
    return true;
  }

  private remove(
    id: number,
    ownerId: number | null,
    actor: AuditActor,
    meta: RequestMeta,
  ): Promise<AlertEntity> {
    return this.tx.run(async (m) => {
      const alert = await this.repo.findOne(id, ownerId, m);
      if (!alert || (await this.repo.delete(id, m)) === 0) throw new AlertNotFoundError();
      const admin = ownerId === null;
      await this.audit.record(
        {
          event: admin ? AuditEvent.ADMIN_ALERT_DELETE : AuditEvent.ALERT_DELETE,
          action: admin ? 'admin delete alert' : 'delete alert',
          success: true,
          statusCode: 200,
          message: summary(alert),
          actor,
          targetUserId: alert.userId,
          metadata: {
            alert_id: alert.id,
            ...this.auditFields(alert),
            is_active: Boolean(alert.isActive),
            triggered_at: alert.triggeredAt?.toISOString() ?? null,
          },
          request: meta,
        },
        m,
      );
      return alert;
    });
  }

  private auditFields(a: AlertEntity): Record<string, unknown> {
    return { direction: a.direction, condition: a.condition, threshold: a.threshold };
  }
}
