import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { parseRange } from '../common/dates';
import { toPage } from '../common/pagination';
import type { AuditLogEntity } from './audit-log.entity';
import type { AuditLogFilter } from './audit.repository';
import { AuditService } from './audit.service';
import { type AuditLogDto, type AuditLogPageDto, LogQueryDto } from './dto/log-query.dto';

function toDto(r: AuditLogEntity): AuditLogDto {
  return {
    id: r.id,
    created_at: r.createdAt.toISOString(),
    event_type: r.eventType,
    action: r.action,
    success: Boolean(r.success),
    status_code: r.statusCode,
    message: r.message,
    http_method: r.httpMethod,
    path: r.path,
    ip_address: r.ipAddress,
    user_agent: r.userAgent,
    actor_user_id: r.actorUserId,
    actor_username: r.actorUsername,
    target_user_id: r.targetUserId,
    metadata_json: r.metadataJson,
  };
}

function toFilter(q: LogQueryDto): AuditLogFilter {
  const { from, to } = parseRange(q.from, q.to);
  return {
    from,
    to,
    eventType: q.event_type,
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

  private async page(filter: AuditLogFilter, q: LogQueryDto): Promise<AuditLogPageDto> {
    const page = toPage(q);
    const { rows, total } = await this.audit.search(filter, page);
    return { total, offset: page.offset, limit: page.limit, logs: rows.map(toDto) };
  }
}
