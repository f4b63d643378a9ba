import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** A plain file name inside BACKUP_DIR: no directories, no "..". */
export const BACKUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.json$/;

export class BackupCreatedDto {
  /** "Backup created" */
  message!: string;
  filename!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  size_bytes!: number;
  /** SHA-256 of the file's content before its final checksum line (as stored in it). */
  sha256!: string;
  /** Rows per table. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  tables!: Record<string, number>;
  duration_ms!: number;
}

export class BackupFileDto {
  filename!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  size_bytes!: number;
  /** `backup` (made on request, by the schedule or the CLI) or `safety` (made by a restore before it replaced the data). */
  @ApiProperty({ enum: ['backup', 'safety'] })
  kind!: 'backup' | 'safety';
}

export class BackupStatusDto {
  /** The newest backup file's name (text, as the seed's admin console prints it), or null when there is none. */
  @ApiProperty({ type: String, nullable: true, example: 'backup_20261205_214600_123.json' })
  last_backup!: string | null;
  /** When the newest backup was made, or null when there is none. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_backup_at!: string | null;
  /** How many backup files there are (safety backups included). */
  available_backups!: number;
  /** Their total size, for people ("1.4 MB"). */
  total_size!: string;
  total_size_bytes!: number;
  /** Newest first. */
  backups!: BackupFileDto[];
  /** BACKUP_CRON, or null when backups are not scheduled. */
  @ApiProperty({ type: String, nullable: true })
  schedule!: string | null;
  /** How many of each kind are kept (BACKUP_KEEP). */
  keep!: number;
}

export class RestoreDto {
  /** A backup file name in BACKUP_DIR (as listed by GET /admin/backup/status); default: the newest backup. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(BACKUP_NAME_PATTERN, {
    message: 'filename must be a plain backup file name (no path), ending in .json',
  })
  filename?: string;

  /**
   * Restore even if the restored data fails the ledger invariants (for a backup of a database that was
   * already inconsistent). Default false: such a restore is rolled back with 422
   * RESTORE_VERIFICATION_FAILED. Row counts must match either way.
   */
  @IsOptional()
  @IsBoolean()
  accept_ledger_mismatches?: boolean;

  /**
   * Restore even though deposits were confirmed or withdrawals completed after the backup was taken
   * (the restore undoes them in the books, not in the real world). Default false: such a restore is
   * refused with 409 RESTORE_LOSES_FUNDING listing them.
   */
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

export class FundingAfterBackupDto {
  id!: number;
  @ApiProperty({ enum: ['DEPOSIT', 'WITHDRAWAL'] })
  kind!: 'DEPOSIT' | 'WITHDRAWAL';
  user_id!: number;
  @ApiProperty({ enum: ['USD', 'LBP'] })
  currency!: string;
  amount!: number;
  @ApiProperty({ format: 'date-time', type: String, nullable: true })
  decided_at!: string | null;
  @ApiProperty({ type: Number, nullable: true })
  decided_by!: number | null;
}

export class RestoreResultDto {
  /** "Restore completed" */
  message!: string;
  filename!: string;
  /** Rows per table in the backup (sessions and refresh tokens among them, although every session ends). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  tables!: Record<string, number>;
  /** The backup taken of the data just replaced (restore it to undo). */
  safety_backup!: string;
  duration_ms!: number;
  /** Ledger invariant failures on the restored data: 0 unless `accept_ledger_mismatches` was set. */
  ledger_mismatches!: number;
  /**
   * Deposits confirmed and withdrawals completed after the backup (in the data just replaced): the
   * restore undid them in the books (only with `force`); empty otherwise.
   */
  funding_after_backup!: FundingAfterBackupDto[];
  /** Whether your own session was kept (every other session ended). */
  session_kept!: boolean;
}
