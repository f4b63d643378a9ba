import type { WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import type { WebhookDeliveryEntity } from './webhook-delivery.entity';
import type { WebhookEndpointEntity } from './webhook-endpoint.entity';

export function toWebhookDto(e: WebhookEndpointEntity): WebhookDto {
  return {
    id: e.id,
    url: e.url,
    events: e.events.split(','),
    status: e.status,
    disabled_reason: e.disabledReason,
    created_at: e.createdAt.toISOString(),
  };
}

export function toDeliveryDto(d: WebhookDeliveryEntity): WebhookDeliveryDto {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
    created_at: d.createdAt.toISOString(),
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}
