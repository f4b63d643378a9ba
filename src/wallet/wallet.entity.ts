import { Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { MinorUnitsColumn, UpdatedAtColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

/**
 * A user's balances in minor units: available (spendable) and held (escrowed in open offers).
 * Only changed by conditional updates next to the ledger rows that explain them.
 */
@Entity({ name: 'wallets' })
export class WalletEntity {
  @PrimaryColumn({ type: 'int', name: 'user_id' })
  userId!: number;

  @OneToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_wallets_user' })
  user?: UserEntity;

  @MinorUnitsColumn({ name: 'usd_available', default: 0 })
  usdAvailable!: bigint;

  @MinorUnitsColumn({ name: 'lbp_available', default: 0 })
  lbpAvailable!: bigint;

  @MinorUnitsColumn({ name: 'usd_held', default: 0 })
  usdHeld!: bigint;

  @MinorUnitsColumn({ name: 'lbp_held', default: 0 })
  lbpHeld!: bigint;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
