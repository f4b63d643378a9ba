import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DateTimeColumn, MinorUnitsColumn, UpdatedAtColumn } from '../database/columns';

export const ROLES = ['USER', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];
export const STATUSES = ['ACTIVE', 'SUSPENDED', 'BANNED'] as const;
export type UserStatus = (typeof STATUSES)[number];

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'varchar', length: 30, name: 'user_name' })
  userName!: string;

  /** Lower-cased user name: uniqueness must not depend on the dialect's collation. */
  @Index('uq_users_user_name_key', { unique: true })
  @Column({ type: 'varchar', length: 30, name: 'user_name_key' })
  userNameKey!: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  @Column({ type: 'varchar', length: 100, name: 'password_hash' })
  passwordHash!: string;

  @Index('ix_users_role')
  @Column({ type: 'varchar', length: 16, default: 'USER' })
  role!: Role;

  @Index('ix_users_status')
  @Column({ type: 'varchar', length: 16, default: 'ACTIVE' })
  status!: UserStatus;

  @DateTimeColumn({ name: 'password_changed_at', nullable: true })
  passwordChangedAt!: Date | null;

  /**
   * An admin's word on the account as a rate contributor (PUT /admin/users/:id/trust): true =
   * trusted (established at once), false = distrusted (never established, whatever it deposited),
   * null = not decided (established by deposits and age; see establishment.ts).
   */
  @Column({ type: 'boolean', nullable: true })
  trusted!: boolean | null;

  /** When `trusted` was last set. */
  @DateTimeColumn({ name: 'trusted_at', nullable: true })
  trustedAt!: Date | null;

  /** Confirmed deposits so far, in USD minor units (LBP valued when each was confirmed). */
  @MinorUnitsColumn({ name: 'funded_usd', default: 0 })
  fundedUsd!: bigint;

  /** When the confirmed deposits first reached RATE_CONTRIBUTOR_MIN_DEPOSIT_USD (null: not yet). */
  @DateTimeColumn({ name: 'funded_at', nullable: true })
  fundedAt!: Date | null;

  /**
   * How many transaction records the user has, kept in the record's own transaction: read with the
   * session on every request, it is the unfiltered list's X-Total-Count without a COUNT.
   */
  @Column({ type: 'int', name: 'transactions_count', default: 0 })
  transactionsCount!: number;

  @Index('ix_users_created')
  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
