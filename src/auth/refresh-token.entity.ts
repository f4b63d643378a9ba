import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn } from '../database/columns';
import { AuthSessionEntity } from './auth-session.entity';

/** A refresh token, stored only as a SHA-256 hash; `id` is the token's `jti`. */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('ix_refresh_tokens_session')
  @Column({ type: 'varchar', length: 36, name: 'session_id' })
  sessionId!: string;

  @ManyToOne(() => AuthSessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_refresh_tokens_session' })
  session?: AuthSessionEntity;

  /** The refresh token this one was issued from (null for the one issued at login). */
  @Column({ type: 'varchar', length: 36, name: 'parent_id', nullable: true })
  parentId!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  /** Set once a token issued from this one has itself been used: presenting it again is reuse. */
  @DateTimeColumn({ name: 'spent_at', nullable: true })
  spentAt!: Date | null;

  @DateTimeColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @CreatedAtColumn()
  createdAt!: Date;
}
