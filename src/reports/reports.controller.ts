import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  AdminReportQueryDto,
  type PlatformReportDto,
  ReportRangeQueryDto,
  type TransactionStatsDto,
  type UserReportDto,
} from './dto/reports.dto';
import { ReportsService } from './reports.service';

@ApiTags('reports')
@Controller()
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /**
   * Your consolidated report over `from`/`to` (both optional; all time by default): per direction the
   * count, exact USD and LBP volumes and the rate figures of your transactions, your busiest UTC day,
   * your P2P trades (as buyer/seller, maker/taker, volumes, rates), and right now your balances and
   * open offers. `from > to` → 400.
   */
  @Get('reports/summary')
  @Auth()
  summary(@CurrentUser() user: Principal, @Query() q: ReportRangeQueryDto): Promise<UserReportDto> {
    return this.reports.userSummary(user.id, q);
  }

  /** Transaction counts: all time, and over the last 72 hours (window_start..window_end) per direction. */
  @Get('admin/stats/transactions')
  @Auth({ roles: ['ADMIN'] })
  transactionStats(): Promise<TransactionStatsDto> {
    return this.reports.transactionStats();
  }

  /**
   * Platform-wide activity per UTC `bucket` (hour or day, default day) over `from`/`to` (default the last
   * 30 days; at most 366): transactions and P2P trades (count, exact volumes, average rate), new users
   * and outlier samples, only buckets with activity, oldest first; totals; and right now the escrow
   * held and the open offers per give currency.
   */
  @Get('admin/reports/summary')
  @Auth({ roles: ['ADMIN'] })
  platformSummary(@Query() q: AdminReportQueryDto): Promise<PlatformReportDto> {
    return this.reports.platformSummary(q);
  }
}
