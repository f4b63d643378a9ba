import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { BackupsService } from './backups.service';
import {
  type BackupCreatedDto,
  type BackupStatusDto,
  RestoreDto,
  type RestoreResultDto,
} from './dto/backup.dto';

@ApiTags('admin')
@Controller('admin')
export class BackupsController {
  constructor(private readonly backups: BackupsService) {}

  /**
   * Backs up every table to a new file in BACKUP_DIR (one consistent snapshot, written to a temporary
   * name and renamed when complete, with a SHA-256 per table and for the file). Audited; older backups
   * beyond BACKUP_KEEP are deleted. 409 BACKUP_IN_PROGRESS while another backup or restore runs.
   */
  @Post('backup')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.BACKUP_CREATE)
  async backup(@CurrentUser() admin: Principal, @ReqMeta() meta: RequestMeta): Promise<BackupCreatedDto> {
    const r = await this.backups.backup({
      actor: { id: admin.id, userName: admin.userName },
      meta,
      via: 'http',
    });
    return {
      message: 'Backup created',
      filename: r.filename,
      created_at: r.createdAt.toISOString(),
      size_bytes: r.sizeBytes,
      sha256: r.sha256,
      tables: r.tables,
      duration_ms: r.durationMs,
    };
  }

  /** The backup files in BACKUP_DIR, newest first, with their total size and the schedule. */
  @Get('backup/status')
  @Auth({ roles: ['ADMIN'] })
  status(): Promise<BackupStatusDto> {
    return this.backups.status();
  }

  /**
   * Replaces all data with a backup (`filename` in BACKUP_DIR; default the newest backup). The whole
   * file is checked first (format and version, schema version, every checksum and count): a damaged
   * file, another format version or another schema version is refused (422) with nothing changed.
   * Then a safety backup of the current data is taken, every table is replaced in one transaction,
   * and row counts and the ledger invariants are checked before it commits. The audit trail keeps its
   * later rows. Deposits confirmed and withdrawals completed after the backup (money that moved in the
   * real world) would be undone in the books: the restore is refused with 409 RESTORE_LOSES_FUNDING
   * listing them unless `force` is true, and the answer's `funding_after_backup` lists what a forced
   * restore undid. Every session and refresh token ends but yours (if you are an active admin in the
   * restored data): everyone else signs in again.
   */
  @Post('restore')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.BACKUP_RESTORE)
  @ApiNotFoundResponse({ description: 'BACKUP_NOT_FOUND' })
  @ApiConflictResponse({ description: 'RESTORE_LOSES_FUNDING (listed in details), or BACKUP_IN_PROGRESS' })
  @ApiUnprocessableEntityResponse({
    description:
      'BACKUP_INVALID, BACKUP_FORMAT_UNSUPPORTED, BACKUP_SCHEMA_MISMATCH or RESTORE_VERIFICATION_FAILED',
  })
  async restore(
    @CurrentUser() admin: Principal,
    @Body() dto: RestoreDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<RestoreResultDto> {
    const r = await this.backups.restoreByName(
      dto?.filename,
      { actor: { id: admin.id, userName: admin.userName }, meta, via: 'http' },
      {
        acceptLedgerMismatches: dto?.accept_ledger_mismatches === true,
        force: dto?.force === true,
        keepSession: { sessionId: admin.sessionId, userId: admin.id },
      },
    );
    return {
      message: 'Restore completed',
      filename: r.filename,
      tables: r.tables,
      safety_backup: r.safetyBackup,
      duration_ms: r.durationMs,
      ledger_mismatches: r.ledgerMismatches,
      funding_after_backup: r.fundingAfterBackup.map((f) => ({
        id: f.id,
        kind: f.kind,
        user_id: f.userId,
        currency: f.currency,
        amount: Number(f.amount),
        decided_at: f.decidedAt?.toISOString() ?? null,
        decided_by: f.decidedBy,
      })),
      session_kept: r.sessionKept,
    };
  }
}
