import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Currency } from '../common/money';
import { CreatedAtColumn, MinorUnitsColumn } from '../database/columns';

/** Accounts of the double-entry ledger: a user's available and held money, and the system accounts. */
export const LEDGER_ACCOUNTS = ['user', 'user_held', 'house', 'funding'] as const;
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

/** One leg of a journal; the legs of a journal sum to zero per currency. */
@Entity({ name: 'ledger_entries' })
@Index('ix_ledger_user', ['userId', 'id'])
@Index('ix_ledger_account', ['account', 'currency'])
@Index('ix_ledger_journal', ['journalId'])
export class LedgerEntryEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'varchar', length: 36, name: 'journal_id' })
  journalId!: string;

  @Column({ type: 'varchar', length: 16 })
  account!: LedgerAccount;

  /** Owner of a user / user_held leg; null for system accounts. */
  @Column({ type: 'int', name: 'user_id', nullable: true })
  userId!: number | null;

  @Column({ type: 'varchar', length: 3 })
  currency!: Currency;

  /** Signed, minor units. */
  @MinorUnitsColumn()
  amount!: bigint;

  /** The account's balance after this leg (user accounts only). */
  @MinorUnitsColumn({ name: 'balance_after', nullable: true })
  balanceAfter!: bigint | null;

  @Column({ type: 'varchar', length: 32 })
  kind!: string;

  @Column({ type: 'varchar', length: 32, name: 'ref_type', nullable: true })
  refType!: string | null;

  @Column({ type: 'int', name: 'ref_id', nullable: true })
  refId!: number | null;

  @CreatedAtColumn()
  createdAt!: Date;
}
