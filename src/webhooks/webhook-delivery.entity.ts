import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn } from '../database/columns';
import { WebhookEndpointEntity } from './webhook-endpoint.entity';

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The outbox: one event for one endpoint, written in the same transaction as the change it reports,
 * then delivered at least once by a worker (WebhookDispatcher) that claims it for one attempt at a
 * time (`claimed_by` until `claimed_until`).
 */
@Entity({ name: 'webhook_deliveries' })
@Index('ix_webhook_deliveries_due', ['status', 'nextAttemptAt'])
@Index('ix_webhook_deliveries_endpoint', ['endpointId', 'createdAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'endpoint_id' })
  endpointId!: number;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'fk_webhook_deliveries_endpoint' })
  endpoint?: WebhookEndpointEntity;

  /** The `webhook-id` header: the same on every attempt of this delivery. */
  @Index('uq_webhook_deliveries_event', { unique: true })
  @Column({ type: 'varchar', length: 40, name: 'event_id' })
  eventId!: string;

  @Column({ type: 'varchar', length: 40, name: 'event_type' })
  eventType!: string;

  /** The JSON body sent, exactly. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16, default: 'PENDING' })
  status!: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @DateTimeColumn({ name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ type: 'int', name: 'last_status_code', nullable: true })
  lastStatusCode!: number | null;

  @Column({ type: 'varchar', length: 300, name: 'last_error', nullable: true })
  lastError!: string | null;

  /** The instance attempting it now, until when (an attempt takes at most the timeout). */
  @Column({ type: 'varchar', length: 80, name: 'claimed_by', nullable: true })
  claimedBy!: string | null;

  @DateTimeColumn({ name: 'claimed_until', nullable: true })
  claimedUntil!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateTimeColumn({ name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;
}
