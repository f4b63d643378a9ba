import { Injectable } from '@nestjs/common';
import { ReadReplica } from '../database/read-replica';
import { Clock } from '../common/clock';
import { parseRange } from '../common/dates';
import { BadRequestError } from '../common/errors/app-error';
import type { Bucket } from '../users/user-preferences.entity';
import { WalletService } from '../wallet/wallet.service';
import type {
  AdminReportQueryDto,
  PlatformReportDto,
  ReportRangeQueryDto,
  TransactionStatsDto,
  UserReportDto,
} from './dto/reports.dto';
import { toPlatformReportDto, toTransactionStatsDto, toUserReportDto } from './reports.mapper';
import { ReportsRepository } from './reports.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The admin stats window ("last_72h" in the field names). */
export const STATS_WINDOW_HOURS = 72;
export const DEFAULT_REPORT_DAYS = 30;
export const MAX_REPORT_DAYS = 366;
const DEFAULT_BUCKET: Bucket = 'day';

/** Consolidated reports: read-only aggregates, computed in SQL by the repository. */
@Injectable()
export class ReportsService {
  constructor(
    private readonly repo: ReportsRepository,
    private readonly wallets: WalletService,
    private readonly clock: Clock,
    private readonly reads: ReadReplica,
  ) {}

  /**
   * GET /reports/summary: the caller's transactions and trades over an optional range, plus current
   * balances and open offers.
   */
  async userSummary(userId: number, q: ReportRangeQueryDto): Promise<UserReportDto> {
    const range = parseRange(q.from, q.to);
    const now = this.clock.now();
    // the aggregates on a replica (unless this user just wrote); balances always from the primary
    const [directions, busiestDay, balances, trades, openOffers] = await this.reads.run(userId, () =>
      Promise.all([
        this.repo.userDirectionTotals(userId, range),
        this.repo.userBusiestDay(userId, range),
        this.wallets.balances(userId),
        this.repo.userTradeTotals(userId, range),
        this.repo.openOffers(now, userId),
      ]),
    );
    return toUserReportDto({ userId, range, directions, busiestDay, balances, trades, openOffers, now });
  }

  /** GET /admin/stats/transactions: all-time count and the last 72 h per direction, [now − 72h, now]. */
  async transactionStats(): Promise<TransactionStatsDto> {
    const windowEnd = this.clock.now();
    const windowStart = new Date(windowEnd.getTime() - STATS_WINDOW_HOURS * HOUR_MS);
    const [allTime, window] = await this.reads.run(null, () =>
      Promise.all([
        this.repo.countTransactions(),
        this.repo.countTransactionsByDirection({ from: windowStart, to: windowEnd }),
      ]),
    );
    return toTransactionStatsDto({ allTime, ...window, windowStart, windowEnd });
  }

  /** GET /admin/reports/summary: platform-wide activity per UTC hour or day, plus current escrow and open offers. */
  async platformSummary(q: AdminReportQueryDto): Promise<PlatformReportDto> {
    const now = this.clock.now();
    const { from, to } = this.reportRange(q, now);
    const bucket = q.bucket ?? DEFAULT_BUCKET;
    const range = { from, to };
    const [transactions, trades, newUsers, outliers, held, openOffers] = await this.reads.run(null, () =>
      Promise.all([
        this.repo.transactionBuckets(range, bucket),
        this.repo.tradeBuckets(range, bucket),
        this.repo.newUserBuckets(range, bucket),
        this.repo.outlierBuckets(range, bucket),
        this.repo.heldTotals(),
        this.repo.openOffers(now),
      ]),
    );
    return toPlatformReportDto({
      from,
      to,
      bucket,
      transactions,
      trades,
      newUsers,
      outliers,
      held,
      openOffers,
      now,
    });
  }

  /**
   * The admin report is always bounded: the last 30 days by default, up to now when only `from` is
   * given, the 30 days before `to` when only `to` is; at most 366 days.
   */
  private reportRange(q: AdminReportQueryDto, now: Date): { from: Date; to: Date } {
    const parsed = parseRange(q.from, q.to);
    const to = parsed.to ?? now;
    const from = parsed.from ?? new Date(to.getTime() - DEFAULT_REPORT_DAYS * DAY_MS);
    if (from.getTime() > to.getTime()) {
      throw new BadRequestError('from must not be after to (to defaults to now).', 'VALIDATION_FAILED', [
        { field: 'from', message: 'after to' },
      ]);
    }
    if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * DAY_MS) {
      throw new BadRequestError(
        `The range must not be longer than ${MAX_REPORT_DAYS} days.`,
        'VALIDATION_FAILED',
        [{ field: 'to', message: `more than ${MAX_REPORT_DAYS} days after from` }],
      );
    }
    return { from, to };
  }
}
