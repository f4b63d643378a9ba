import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../webhook-delivery.entity';
import { ENDPOINT_STATUSES, type EndpointStatus } from '../webhook-endpoint.entity';
import { WEBHOOK_EVENTS } from '../webhooks.service';

export class CreateWebhookDto {
  /** Where the events are POSTed: https (http only with WEBHOOK_ALLOW_HTTP), a public host. */
  @IsString()
  @MaxLength(2000)
  url!: string;

  /**
   * What to send: `notification` (every notification of yours), `offer` (your offers' changes:
   * created, filled, cancelled, expired); admins also `deposit.requested`, `withdrawal.requested`.
   */
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @IsIn(WEBHOOK_EVENTS, { each: true })
  events!: string[];
}

export class WebhookDto {
  id!: number;
  url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true })
  events!: string[];
  @ApiProperty({ enum: ENDPOINT_STATUSES })
  status!: EndpointStatus;
  /** Why it was disabled (a day of failed deliveries), or null. */
  @ApiProperty({ type: String, nullable: true })
  disabled_reason!: string | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class WebhookCreatedDto extends WebhookDto {
  /**
   * `whsec_<base64>`, shown only here (and on rotation): verify each delivery's `webhook-signature`
   * with it (Standard Webhooks: HMAC-SHA256 keyed with the decoded bytes, over `id.timestamp.body`).
   */
  secret!: string;
}

export class WebhookSecretDto {
  id!: number;
  /** The new secret (shown once). */
  secret!: string;
  /** Until then the previous secret signs too (both signatures are sent). */
  @ApiProperty({ format: 'date-time' })
  previous_secret_valid_until!: string;
}

export class WebhookDeliveryDto {
  id!: number;
  /** The `webhook-id` header, the same on every attempt. */
  event_id!: string;
  event_type!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES })
  status!: DeliveryStatus;
  attempts!: number;
  @ApiProperty({ type: Number, nullable: true })
  last_status_code!: number | null;
  @ApiProperty({ type: String, nullable: true })
  last_error!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  next_attempt_at!: string | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  delivered_at!: string | null;
}

export class WebhookTestDto {
  message!: string;
  /** The ping's `webhook-id`. */
  event_id!: string;
}

export class WebhookDeletedDto {
  /** "Webhook deleted" */
  message!: string;
}
