import {
  BusinessRuleError,
  ConflictError,
  NotFoundError,
  type ErrorDetail,
} from '../common/errors/app-error';

export class BackupNotFoundError extends NotFoundError {
  constructor(what: string) {
    super(what, 'BACKUP_NOT_FOUND');
  }
}

/** Truncated, altered or malformed: nothing is restored from it. */
export class BackupInvalidError extends BusinessRuleError {
  constructor(reason: string) {
    super('BACKUP_INVALID', `The backup file is damaged or not a backup: ${reason}. Nothing was changed.`, [
      { field: 'filename', message: reason },
    ]);
  }
}

export class BackupFormatUnsupportedError extends BusinessRuleError {
  constructor(found: string, expected: string) {
    super(
      'BACKUP_FORMAT_UNSUPPORTED',
      `The backup is in format ${found}; this version reads ${expected}. Nothing was changed.`,
    );
  }
}

export class BackupSchemaMismatchError extends BusinessRuleError {
  constructor(found: string, current: string, details?: ErrorDetail[]) {
    super(
      'BACKUP_SCHEMA_MISMATCH',
      `The backup was taken at schema version ${found}, but this database is at ${current}. Restore it with the application version that matches it. Nothing was changed.`,
      details,
    );
  }
}

export class BackupInProgressError extends ConflictError {
  constructor() {
    super(
      'A backup or restore is already running on this server; try again when it has finished.',
      'BACKUP_IN_PROGRESS',
    );
  }
}

/** The restored data failed its checks (row counts, ledger): the restore was rolled back. */
export class RestoreVerificationError extends BusinessRuleError {
  constructor(details: ErrorDetail[]) {
    super(
      'RESTORE_VERIFICATION_FAILED',
      'The restored data did not pass its checks; the restore was rolled back and nothing was changed.',
      details,
    );
  }
}

/**
 * A restore would undo deposits confirmed or withdrawals completed after the backup: money that moved
 * in the real world. Nothing was changed; `{"force": true}` restores anyway.
 */
export class RestoreLosesFundingError extends ConflictError {
  constructor(lost: string[]) {
    const shown = lost.slice(0, 19).map((message, i) => ({ field: `funding_after_backup[${i}]`, message }));
    if (lost.length > 19)
      shown.push({ field: 'funding_after_backup', message: `and ${lost.length - 19} more` });
    super(
      `The backup is older than ${lost.length} confirmed deposit(s) or completed withdrawal(s): restoring it would undo money that already moved. Nothing was changed; send {"force": true} to restore anyway.`,
      'RESTORE_LOSES_FUNDING',
      shown,
    );
  }
}
