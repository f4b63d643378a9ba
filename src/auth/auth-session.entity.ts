import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

/**
 * A login session: the family of every access and refresh token issued from one login.
 * Revoking the row kills all of them at once, on every instance, across restarts.
 */
@Entity({ name: 'auth_sessions' })
@Index('ix_auth_sessions_user', ['userId', 'revokedAt'])
export class AuthSessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'int', name: 'user_id' })
  userId!: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_auth_sessions_user' })
  user?: UserEntity;

  @DateTimeColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateTimeColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 32, name: 'revoke_reason', nullable: true })
  revokeReason!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;
}
