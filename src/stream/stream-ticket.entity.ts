import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AuthSessionEntity } from '../auth/auth-session.entity';
import { CreatedAtColumn, DateTimeColumn } from '../database/columns';

/**
 * A one-time ticket for GET /stream (browsers' EventSource cannot send an Authorization header).
 * Only its SHA-256 is stored; using it deletes the row, so it works once, on any instance. It belongs
 * to the login session that asked for it: the stream lives while that session does.
 */
@Entity({ name: 'stream_tickets' })
@Index('ix_stream_tickets_expires', ['expiresAt'])
export class StreamTicketEntity {
  /** SHA-256 of the ticket, hex. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'session_id' })
  sessionId!: string;

  @ManyToOne(() => AuthSessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_stream_tickets_session' })
  session?: AuthSessionEntity;

  @DateTimeColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @CreatedAtColumn()
  createdAt!: Date;
}
