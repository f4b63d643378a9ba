import type { AuditLogEntity } from './audit-log.entity';
import type { AuditLogDto } from './dto/log-query.dto';

export function toAuditLogDto(r: AuditLogEntity): AuditLogDto {
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
