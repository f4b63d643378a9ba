import type { AlertEntity } from './alert.entity';
import type { AdminAlertDto, AlertDto, TriggeredAlertDto } from './dto/alert.dto';

export function toAlertDto(a: AlertEntity): AlertDto {
  return {
    id: a.id,
    direction: a.direction,
    condition: a.condition,
    threshold: a.threshold,
    is_active: Boolean(a.isActive),
    triggered_at: a.triggeredAt ? a.triggeredAt.toISOString() : null,
    trigger_rate: a.triggerRate,
    created_at: a.createdAt.toISOString(),
  };
}

export function toAdminAlertDto(a: AlertEntity): AdminAlertDto {
  return { ...toAlertDto(a), user_id: a.userId };
}

/** Only for fired alerts (triggered_at and trigger_rate set). */
export function toTriggeredAlertDto(a: AlertEntity): TriggeredAlertDto {
  return {
    id: a.id,
    direction: a.direction,
    condition: a.condition,
    threshold: a.threshold,
    current_rate: a.triggerRate ?? 0,
    triggered_at: (a.triggeredAt ?? a.createdAt).toISOString(),
  };
}
