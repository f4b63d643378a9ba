import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { parseRange } from '../common/dates';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { toPage } from '../common/pagination';
import { AUDIT_CSV_COLUMNS } from './audit-csv';
import { AuditEvent, eventFilterOf } from './audit-events';
import { toAuditLogDto } from './audit-log.mapper';
import { Audit } from './audit.decorator';
import type { AuditLogFilter } from './audit.repository';
import { AuditService } from './audit.service';
import { type AuditLogPageDto, LogFilterDto, LogQueryDto } from './dto/log-query.dto';

function toFilter(q: LogFilterDto): AuditLogFilter {
  const { from, to } = parseRange(q.from, q.to);
  const event = q.event_type === undefined ? undefined : eventFilterOf(q.event_type);
  return {
    from,
    to,
    eventType: event?.event,
    path: event?.path,
    success: q.success === undefined ? undefined : q.success === 'true',
    actorUserId: q.actor_user_id,
    targetUserId: q.target_user_id,
    actorUsername: q.actor_username,
  };
}

@ApiTags('audit')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Your own audit trail (rows where you are the actor), newest first. */
  @Get('logs')
  @Auth()
  async mine(@CurrentUser() user: Principal, @Query() q: LogQueryDto): Promise<AuditLogPageDto> {
    return this.page({ ...toFilter(q), actorUserId: user.id }, q);
  }

  /** The whole audit trail; every filter combines with the others. */
  @Get('admin/logs')
  @Auth({ roles: ['ADMIN'] })
  async all(@Query() q: LogQueryDto): Promise<AuditLogPageDto> {
    return this.page(toFilter(q), q);
  }

  /**
   * The audit trail as CSV (`text/csv`), newest first, with the same filters as GET /admin/logs
   * (`from`, `to`, `event_type`, `success`, `actor_user_id`, `target_user_id`, `actor_username`) and
   * no paging: every matching row, streamed in chunks. Header row = the JSON log row's field names.
   * Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab, CR or LF)
   * get a leading `'`; cells with a comma, quote, CR or LF are quoted with doubled quotes (RFC 4180).
   * Ids and status codes stay plain numbers. Attachment `audit_logs_<YYYYmmdd_HHMMSS>.csv`. The export
   * itself is audited (ADMIN_LOG_EXPORT).
   */
  @Get('admin/logs/export')
  @Auth({ roles: ['ADMIN'] })
  @Audit(AuditEvent.ADMIN_LOG_EXPORT)
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: `Header \`${AUDIT_CSV_COLUMNS.join(',')}\`; attachment audit_logs_<YYYYmmdd_HHMMSS>.csv`,
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  async export(
    @CurrentUser() user: Principal,
    @Query() q: LogFilterDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<StreamableFile> {
    const { filename, stream } = await this.audit.exportCsv(
      toFilter(q),
      { id: user.id, userName: user.userName },
      meta,
    );
    return new StreamableFile(stream, {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename=${filename}`,
    });
  }

  private async page(filter: AuditLogFilter, q: LogQueryDto): Promise<AuditLogPageDto> {
    const page = toPage(q);
    const { rows, total } = await this.audit.search(filter, page);
    return { total, offset: page.offset, limit: page.limit, logs: rows.map(toAuditLogDto) };
  }
}
