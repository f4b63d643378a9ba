import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn } from '../../database/columns';

/** One Idempotency-Key of one user: the request's hash and, once done, the first response. */
@Entity({ name: 'idempotency_keys' })
@Index('uq_idempotency_user_key', ['userId', 'idemKey'], { unique: true })
@Index('ix_idempotency_expires', ['expiresAt'])
export class IdempotencyKeyEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @Column({ type: 'varchar', length: 255, name: 'idem_key' })
  idemKey!: string;

  @Column({ type: 'varchar', length: 64, name: 'request_hash' })
  requestHash!: string;

  /** IN_PROGRESS while the first request runs, DONE once its response is stored. */
  @Column({ type: 'varchar', length: 16 })
  state!: 'IN_PROGRESS' | 'DONE';

  @Column({ type: 'int', name: 'response_status', nullable: true })
  responseStatus!: number | null;

  @Column({ type: 'text', name: 'response_body', nullable: true })
  responseBody!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateTimeColumn({ name: 'expires_at' })
  expiresAt!: Date;
}
