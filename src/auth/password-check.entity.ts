import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

/**
 * Wrong passwords at the step-up checks (POST /auth/fresh, PUT /user/password) of one account, and
 * the lock they lead to. In the database, so the count and the lock hold on every instance.
 */
@Entity({ name: 'password_checks' })
export class PasswordCheckEntity {
  @PrimaryColumn({ type: 'int', name: 'user_id' })
  userId!: number;

  @OneToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_password_checks_user' })
  user?: UserEntity;

  /** Wrong passwords in a row (reset by a right one, by the lock, and when the last is old). */
  @Column({ type: 'int', default: 0 })
  failures!: number;

  @DateTimeColumn({ name: 'last_failure_at', nullable: true })
  lastFailureAt!: Date | null;

  @DateTimeColumn({ name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;
}
