import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
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
   * later rows. Every session and refresh token ends (yours too): everyone signs in again.
   */
  @Post('restore')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.BACKUP_RESTORE)
  @ApiNotFoundResponse({ description: 'BACKUP_NOT_FOUND' })
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
      { acceptLedgerMismatches: dto?.accept_ledger_mismatches === true },
    );
    return {
      message: 'Restore completed',
      filename: r.filename,
      tables: r.tables,
      safety_backup: r.safetyBackup,
      duration_ms: r.durationMs,
      ledger_mismatches: r.ledgerMismatches,
    };
  }
}
