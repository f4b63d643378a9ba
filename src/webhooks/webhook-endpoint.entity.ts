import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn, UpdatedAtColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

export const ENDPOINT_STATUSES = ['ACTIVE', 'DISABLED'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** A user's (or an admin's) HTTPS endpoint that receives signed POSTs of the events it subscribed to. */
@Entity({ name: 'webhook_endpoints' })
@Index('ix_webhook_endpoints_user', ['userId', 'status'])
export class WebhookEndpointEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_webhook_endpoints_user' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 2000 })
  url!: string;

  /** Subscribed event types, comma-separated. */
  @Column({ type: 'varchar', length: 500 })
  events!: string;

  /** `whsec_<base64>`: the signing secret (the HMAC key is its decoded bytes). */
  @Column({ type: 'varchar', length: 100 })
  secret!: string;

  /** After a rotation, the previous secret also signs until `previousSecretUntil`. */
  @Column({ type: 'varchar', length: 100, name: 'previous_secret', nullable: true })
  previousSecret!: string | null;

  @DateTimeColumn({ name: 'previous_secret_until', nullable: true })
  previousSecretUntil!: Date | null;

  @Column({ type: 'varchar', length: 16, default: 'ACTIVE' })
  status!: EndpointStatus;

  @Column({ type: 'varchar', length: 300, name: 'disabled_reason', nullable: true })
  disabledReason!: string | null;

  /** Since when every attempt failed (null after a success): a day of it disables the endpoint. */
  @DateTimeColumn({ name: 'failing_since', nullable: true })
  failingSince!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
