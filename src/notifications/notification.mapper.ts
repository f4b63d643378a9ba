import type { NotificationDto } from './dto/notification.dto';
import type { NotificationEntity } from './notification.entity';

export function toNotificationDto(n: NotificationEntity): NotificationDto {
  return {
    id: n.id,
    event_type: n.eventType,
    title: n.title,
    message: n.message,
    ref_type: n.refType === '' ? null : n.refType,
    ref_id: n.refId === 0 ? null : n.refId,
    is_read: Boolean(n.isRead),
    created_at: n.createdAt.toISOString(),
  };
}
