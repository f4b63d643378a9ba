import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { readGauge } from '../metrics/metrics';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { bumpReferenceEpoch } from '../rates/reference-epoch';
import { MaintenanceState } from '../common/maintenance';
import { AppError, type ErrorDetail, ValidationFailedError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { WalletService } from '../wallet/wallet.service';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BackupFormatError,
  type BackupHeader,
  type Cell,
  finalLine,
  headerLine,
  readBackup,
  rowSeparator,
  rowText,
  sha256,
  tableCloseLine,
  tableOpenLine,
  tablesEndLine,
} from './backup-format';
import {
  BackupFormatUnsupportedError,
  BackupInProgressError,
  BackupInvalidError,
  BackupNotFoundError,
  BackupSchemaMismatchError,
  RestoreLosesFundingError,
  RestoreVerificationError,
} from './backups.errors';
import {
  BackupsRepository,
  describeFunding,
  FUNDING_TABLE,
  type FundingAfterBackup,
  type KeptSession,
  type TableInfo,
} from './backups.repository';
import { BACKUP_NAME_PATTERN, type BackupFileDto, type BackupStatusDto } from './dto/backup.dto';
import { markAudited } from '../common/errors/audited';

/** Rows read per query while writing, and inserted per statement while restoring. */
const READ_PAGE = 1000;
const INSERT_CELLS = 20_000;
const INSERT_BYTES = 4 << 20;
/** Bytes gathered before each write to the file. */
const WRITE_CHUNK = 1 << 16;

export type BackupKind = 'backup' | 'safety';

export interface BackupResult {
  filename: string;
  createdAt: Date;
  sizeBytes: number;
  sha256: string;
  tables: Record<string, number>;
  durationMs: number;
}

export interface RestoreResult {
  filename: string;
  tables: Record<string, number>;
  safetyBackup: string;
  durationMs: number;
  /** Ledger invariant failures on the restored data (0 unless the caller accepted them). */
  ledgerMismatches: number;
  /** Deposits confirmed and withdrawals completed after the backup: the restore undid them (forced). */
  fundingAfterBackup: FundingAfterBackup[];
  /** Whether the restoring admin's own session was kept (every other session ended). */
  sessionKept: boolean;
}

export interface RestoreOptions {
  /**
   * Commit even when the restored data fails the ledger invariants (a backup of a database that was
   * already inconsistent); row counts must still match. Off by default.
   */
  acceptLedgerMismatches?: boolean;
  /**
   * Restore even though deposits were confirmed or withdrawals completed after the backup (money
   * that moved in the real world would be undone in the books). Off by default: 409.
   */
  force?: boolean;
  /** The restoring admin's session: kept through the restore (if the admin is an active admin in it). */
  keepSession?: { sessionId: string; userId: number };
}

/** Who asked: an admin over HTTP, the schedule, or a shell (npm run backup / restore). */
export interface BackupTrigger {
  actor: AuditActor | null;
  meta?: RequestMeta;
  via: 'http' | 'schedule' | 'cli';
}

interface ValidatedBackup {
  header: BackupHeader;
  sha256: string;
  counts: Record<string, number>;
  nextIds: Record<string, number | null>;
  /** Ids of the funding requests (deposits, withdrawals) COMPLETED in the file. */
  completedFunding: Set<number>;
}

/** Buffered, ordered writes to a file handle, hashing what goes through. */
class FileWriter {
  private buffer: string[] = [];
  private size = 0;
  bytes = 0;
  readonly hash = sha256();

  constructor(
    private readonly fh: Awaited<ReturnType<typeof open>>,
    private position = 0,
  ) {}

  async write(text: string, hashed = true): Promise<void> {
    if (hashed) this.hash.update(text);
    this.buffer.push(text);
    this.size += text.length;
    if (this.size >= WRITE_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const data = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.size = 0;
    this.bytes += data.length;
    await this.fh.write(data, 0, data.length, this.position);
    this.position += data.length;
  }
}

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const stampOf = (d: Date): string =>
  d.toISOString().replace(/[-:]/g, '').replace('T', '_').replace('.', '_').slice(0, 19);

/** The file's lines; the underlying stream is destroyed however the iteration ends (no fd leak). */
async function* lines(path: string): AsyncGenerator<string> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    yield* rl;
  } finally {
    rl.close();
    input.destroy();
  }
}

/**
 * Backups and restores of every table (see backup-format.ts for the file). A backup reads all tables
 * in one transaction (one consistent snapshot), streams them to a temporary file and renames it when
 * complete. A restore checks the whole file first, takes a safety backup, then replaces every table in
 * one transaction and checks row counts and the ledger before it commits.
 */
/** A temporary backup file untouched for this long belongs to a process that died writing it. */
const STALE_PARTIAL_MS = 3_600_000;

@Injectable()
export class BackupsService implements OnModuleInit {
  private readonly logger = new Logger(BackupsService.name);
  private busy = false;

  constructor(
    private readonly repo: BackupsRepository,
    private readonly tx: TransactionRunner,
    private readonly wallets: WalletService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly maintenance: MaintenanceState,
  ) {}

  get dir(): string {
    return resolve(this.config.backup.dir);
  }

  onModuleInit(): void {
    readGauge(
      'exchange_backup_age_seconds',
      'Seconds since the newest backup file was written (absent while there is none)',
      [],
      async () => {
        const newest = (await this.list()).find((f) => f.kind === 'backup');
        return newest
          ? [{ labels: {}, value: (this.clock.now().getTime() - Date.parse(newest.created_at)) / 1000 }]
          : [];
      },
    );
  }

  /** POST /admin/backup, the schedule and `npm run backup`: a backup, audited, then retention. */
  async backup(trigger: BackupTrigger): Promise<BackupResult> {
    return this.exclusive(async () => {
      const started = Date.now();
      try {
        const result = await this.writeBackup('backup');
        await this.prune('backup');
        await this.audit.record({
          event: AuditEvent.BACKUP_CREATE,
          action: `create backup (${trigger.via})`,
          success: true,
          statusCode: trigger.via === 'http' ? 201 : null,
          message: `${result.filename}: ${result.sizeBytes} bytes in ${result.durationMs} ms`,
          actor: trigger.actor,
          metadata: {
            filename: result.filename,
            size_bytes: result.sizeBytes,
            sha256: result.sha256,
            table_rows: rowsList(result.tables),
            duration_ms: result.durationMs,
            via: trigger.via,
          },
          request: trigger.meta,
        });
        return result;
      } catch (err) {
        await this.auditFailure(AuditEvent.BACKUP_CREATE, 'create backup', trigger, err, started, null);
        throw err;
      }
    });
  }

  /** POST /admin/restore: `filename` in BACKUP_DIR, or the newest backup. */
  async restoreByName(
    filename: string | undefined,
    trigger: BackupTrigger,
    options: RestoreOptions = {},
  ): Promise<RestoreResult> {
    const name = filename ?? (await this.newest('backup'))?.filename;
    if (!name) throw new BackupNotFoundError('There is no backup to restore.');
    return this.restoreFile(this.pathOf(name), trigger, options);
  }

  /** `npm run restore -- <file>`: a name in BACKUP_DIR or a path. */
  restorePath(file: string, trigger: BackupTrigger, options: RestoreOptions = {}): Promise<RestoreResult> {
    const path = file.includes('/') || file.includes('\\') ? resolve(file) : this.pathOf(file);
    return this.restoreFile(path, trigger, options);
  }

  async status(): Promise<BackupStatusDto> {
    const files = await this.list();
    const total = files.reduce((a, f) => a + f.size_bytes, 0);
    return {
      last_backup: files[0]?.filename ?? null,
      last_backup_at: files[0]?.created_at ?? null,
      available_backups: files.length,
      total_size: humanSize(total),
      total_size_bytes: total,
      backups: files,
      schedule: this.config.backup.cron,
      keep: this.config.backup.keep,
    };
  }

  /** A plain name in BACKUP_DIR; anything else (paths, "..") is 400 before the disk is touched. */
  private pathOf(name: string): string {
    if (!BACKUP_NAME_PATTERN.test(name) || name.length > 200 || basename(name) !== name) {
      throw new ValidationFailedError([
        { field: 'filename', message: 'must be a plain backup file name (no path)' },
      ]);
    }
    const path = resolve(this.dir, name);
    if (resolve(path, '..') !== this.dir) {
      throw new ValidationFailedError([
        { field: 'filename', message: 'must be inside the backup directory' },
      ]);
    }
    return path;
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new BackupInProgressError();
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }

  private async restoreFile(
    path: string,
    trigger: BackupTrigger,
    options: RestoreOptions,
  ): Promise<RestoreResult> {
    return this.exclusive(async () => {
      const started = Date.now();
      const filename = basename(path);
      let safety: string | null = null;
      let committed = false;
      try {
        try {
          await stat(path);
        } catch {
          throw new BackupNotFoundError(`Backup ${filename} was not found.`);
        }
        const tables = this.repo.tables();
        const checked = await this.validate(path, tables);
        // from the safety backup to the commit nothing else runs here (503 MAINTENANCE): no write can
        // fall between the two, and nobody reads a half-replaced database
        const { counts, ledgerMismatches, safetyName, lost, sessionKept } = await this.maintenance.during(
          async () => {
            // money that left (or came in) in the real world after the backup: nothing else writes now,
            // so this list is complete; a restore would undo it in the books, so only when forced
            const lost = await this.fundingAfter(checked);
            if (lost.length > 0 && !options.force)
              throw new RestoreLosesFundingError(lost.map(describeFunding));
            const safetyName = (await this.writeBackup('safety')).filename;
            safety = safetyName;
            const done = await this.tx.run(async (m) => {
              const session = options.keepSession
                ? await this.repo.sessionRows(options.keepSession.sessionId, m)
                : null;
              const renumbered = await this.replaceAll(path, tables, checked, m);
              // every instance's live reference loads the restored samples in full (not in backups)
              await bumpReferenceEpoch(m, this.clock.now());
              // the counters kept beside the rows they count follow the rows, whatever the file says
              await this.repo.recountTransactions(m);
              const sessionKept =
                session !== null && options.keepSession !== undefined
                  ? await this.repo.restoreSession(session, options.keepSession.userId, m)
                  : false;
              const verdict = await this.verifyRestored(
                tables,
                checked,
                m,
                session && sessionKept ? session : null,
              );
              const fatal = verdict.problems.concat(
                verdict.ledgerMismatches > 0 && !options.acceptLedgerMismatches
                  ? [
                      {
                        field: 'ledger',
                        message: `${verdict.ledgerMismatches} ledger invariant(s) fail on the restored data (the backup's own data may be inconsistent; accept_ledger_mismatches restores it anyway)`,
                      },
                    ]
                  : [],
              );
              if (fatal.length > 0) throw new RestoreVerificationError(fatal);
              await this.audit.record(
                {
                  event: AuditEvent.BACKUP_RESTORE,
                  action: `restore backup (${trigger.via})`,
                  success: true,
                  statusCode: trigger.via === 'http' ? 200 : null,
                  message: `${filename} restored in ${Date.now() - started} ms; safety backup ${safetyName}`,
                  actor: trigger.actor,
                  metadata: {
                    filename,
                    safety_backup: safetyName,
                    table_rows: rowsList(checked.counts),
                    backup_created_at: checked.header.created_at,
                    ledger_mismatches: verdict.ledgerMismatches,
                    accepted_ledger_mismatches: verdict.ledgerMismatches > 0,
                    audit_rows_renumbered: renumbered,
                    funding_after_backup: lost.map((f) => ({
                      id: f.id,
                      kind: f.kind,
                      amount: f.amount,
                      currency: f.currency,
                    })),
                    forced: lost.length > 0,
                    session_kept: sessionKept,
                    duration_ms: Date.now() - started,
                    via: trigger.via,
                  },
                  request: trigger.meta,
                },
                m,
              );
              return { counts: checked.counts, ledgerMismatches: verdict.ledgerMismatches, sessionKept };
            });
            committed = true;
            // only now: a restore that fails must not have pruned the oldest safety backup for nothing
            await this.prune('safety');
            if (this.repo.dialect === 'mysql') await this.restoreCounters(tables, checked);
            // cached market figures and outlier baselines describe the old data
            this.maintenance.dataReplaced();
            return { ...done, safetyName, lost };
          },
        );
        return {
          filename,
          tables: counts,
          safetyBackup: safetyName,
          durationMs: Date.now() - started,
          ledgerMismatches,
          fundingAfterBackup: lost,
          sessionKept,
        };
      } catch (err) {
        // rolled back: the safety backup of data that was never replaced goes too (a failed request
        // leaves no file behind); after the commit it is the only copy of the replaced data, so it stays
        if (safety && !committed) await unlink(join(this.dir, safety)).catch(() => undefined);
        await this.auditFailure(AuditEvent.BACKUP_RESTORE, 'restore backup', trigger, err, started, {
          filename,
        });
        throw err;
      }
    });
  }

  /** Reads the whole file once: layout, format, schema, every cell's type, row counts and checksums. */
  private async validate(path: string, tables: TableInfo[]): Promise<ValidatedBackup> {
    const current = await this.repo.schemaVersion();
    const expected = new Map(tables.map((t) => [t.name, t]));
    const counts: Record<string, number> = {};
    const nextIds: Record<string, number | null> = {};
    let header: BackupHeader | null = null;
    let table: TableInfo | null = null;
    let rows = 0;
    let tableHash = sha256();
    let result: ValidatedBackup | null = null;
    const completedFunding = new Set<number>();
    let fundingCols: { id: number; status: number } | null = null;
    try {
      for await (const ev of readBackup(lines(path))) {
        switch (ev.kind) {
          case 'header': {
            header = ev.header;
            if (header.format !== BACKUP_FORMAT) throw new BackupInvalidError(`not a ${BACKUP_FORMAT} file`);
            if (header.format_version !== BACKUP_FORMAT_VERSION)
              throw new BackupFormatUnsupportedError(
                `${header.format} v${String(header.format_version)}`,
                `${BACKUP_FORMAT} v${BACKUP_FORMAT_VERSION}`,
              );
            if (header.schema_version !== current)
              throw new BackupSchemaMismatchError(String(header.schema_version), current);
            break;
          }
          case 'table': {
            table = expected.get(ev.table.name) ?? null;
            if (!table || ev.table.name in counts)
              throw new BackupSchemaMismatchError(header?.schema_version ?? '?', current, [
                { field: 'tables', message: `unexpected table ${ev.table.name}` },
              ]);
            const cols = table.columns.map((c) => c.name);
            if (JSON.stringify(ev.table.columns) !== JSON.stringify(cols))
              throw new BackupSchemaMismatchError(header?.schema_version ?? '?', current, [
                { field: ev.table.name, message: 'its columns differ from this database' },
              ]);
            nextIds[table.name] = typeof ev.table.next_id === 'number' ? ev.table.next_id : null;
            fundingCols =
              table.name === FUNDING_TABLE
                ? { id: cols.indexOf('id'), status: cols.indexOf('status') }
                : null;
            rows = 0;
            tableHash = sha256();
            break;
          }
          case 'row': {
            if (!table) throw new BackupFormatError('a row outside a table');
            if (ev.cells.length !== table.columns.length)
              throw new BackupFormatError(`${table.name}: a row has ${ev.cells.length} cells`);
            ev.cells.forEach((c, i) => this.repo.toParam(c, table?.columns[i].kind ?? 'text', i));
            if (fundingCols && ev.cells[fundingCols.status] === 'COMPLETED')
              completedFunding.add(Number(ev.cells[fundingCols.id]));
            tableHash.update(ev.line);
            rows += 1;
            break;
          }
          case 'tableEnd': {
            if (!table) throw new BackupFormatError('a table end outside a table');
            if (ev.trailer.row_count !== rows)
              throw new BackupInvalidError(
                `${table.name} holds ${rows} rows, its trailer says ${ev.trailer.row_count}`,
              );
            if (tableHash.digest('hex') !== ev.trailer.sha256)
              throw new BackupInvalidError(`the checksum of table ${table.name} does not match`);
            counts[table.name] = rows;
            table = null;
            break;
          }
          case 'end': {
            if (ev.computed !== ev.sha256) throw new BackupInvalidError('the file checksum does not match');
            const missing = tables.filter((t) => !(t.name in counts)).map((t) => t.name);
            if (missing.length > 0)
              throw new BackupSchemaMismatchError(header?.schema_version ?? '?', current, [
                { field: 'tables', message: `missing ${missing.join(', ')}` },
              ]);
            if (JSON.stringify(ev.counts) !== JSON.stringify(counts))
              throw new BackupInvalidError('the table counts do not match the tables');
            if (!header) throw new BackupFormatError('no header');
            result = { header, sha256: ev.sha256, counts, nextIds, completedFunding };
            break; // read on: anything after the end is refused by readBackup
          }
        }
      }
    } catch (err) {
      if (err instanceof BackupFormatError) throw new BackupInvalidError(err.message);
      throw err;
    }
    if (!result) throw new BackupInvalidError('the file ends early (truncated)');
    return result;
  }

  /**
   * Inside the restore's transaction: empties the replaced and cleared tables (children first), then
   * inserts the file's rows (the audit trail keeps its rows and gains the file's missing ones, see
   * appendRows). Returns how many of the file's audit rows were given a new id.
   */
  private async replaceAll(
    path: string,
    tables: TableInfo[],
    checked: ValidatedBackup,
    m: EntityManager,
  ): Promise<number> {
    const byName = new Map(tables.map((t) => [t.name, t]));
    await this.repo.setForeignKeyChecks(false, m);
    try {
      for (const t of [...tables].reverse()) if (t.restore !== 'append') await this.repo.deleteAll(t.name, m);
      let table: TableInfo | null = null;
      let batch: Cell[][] = [];
      let batchBytes = 0;
      let renumbered = 0;
      const flush = async () => {
        if (table?.restore === 'replace') await this.repo.insertRows(table, batch, m);
        else if (table?.restore === 'append') renumbered += await this.repo.appendRows(table, batch, m);
        batch = [];
        batchBytes = 0;
      };
      for await (const ev of readBackup(lines(path))) {
        if (ev.kind === 'table') table = byName.get(ev.table.name) ?? null;
        else if (ev.kind === 'row') {
          batch.push(ev.cells);
          batchBytes += ev.line.length;
          // bounded in cells (placeholders) and in bytes (MySQL max_allowed_packet is 16 MB by default)
          if (table && (batch.length * table.columns.length >= INSERT_CELLS || batchBytes >= INSERT_BYTES))
            await flush();
        } else if (ev.kind === 'tableEnd') {
          await flush();
          table = null;
        } else if (ev.kind === 'end' && ev.computed !== checked.sha256) {
          throw new BackupInvalidError('the file changed while it was being restored');
        }
      }
      if (this.repo.dialect === 'sqlite') {
        for (const t of tables) {
          const next = checked.nextIds[t.name];
          if (t.autoIncrement && next !== null && next !== undefined) await this.repo.raiseNextId(t, next, m);
        }
      }
      return renumbered;
    } catch (err) {
      if (err instanceof BackupFormatError) throw new BackupInvalidError(err.message);
      throw err;
    } finally {
      await this.repo.setForeignKeyChecks(true, m);
    }
  }

  /** Row counts as in the file, and the ledger invariants, before the restore commits. */
  private async verifyRestored(
    tables: TableInfo[],
    checked: ValidatedBackup,
    m: EntityManager,
    kept: KeptSession | null,
  ): Promise<{ problems: ErrorDetail[]; ledgerMismatches: number }> {
    const problems: ErrorDetail[] = [];
    for (const t of tables) {
      const n = await this.repo.count(t.name, m);
      const inFile = checked.counts[t.name];
      // cleared tables hold nothing but the restoring admin's session and its refresh tokens
      const keptRows = kept === null ? 0 : (kept.rows[t.name]?.length ?? 0);
      const ok = t.restore === 'clear' ? n === keptRows : t.restore === 'append' ? n >= inFile : n === inFile;
      if (!ok)
        problems.push({ field: t.name, message: `${n} rows after the restore, ${inFile} in the file` });
    }
    for (const fk of this.repo.foreignKeys()) {
      const orphans = await this.repo.orphans(fk, m);
      if (orphans > 0)
        problems.push({ field: fk.table, message: `${orphans} row(s) refer to missing ${fk.parent} rows` });
    }
    const ledger = await this.wallets.verify(m);
    return { problems, ledgerMismatches: ledger.ok ? 0 : Math.max(1, ledger.mismatches.length) };
  }

  /**
   * The deposits confirmed and withdrawals completed in the data a restore would replace that are not
   * completed in the backup (read while nothing else writes).
   */
  private async fundingAfter(checked: ValidatedBackup): Promise<FundingAfterBackup[]> {
    // the backup is one snapshot taken at its created_at; decisions a little before it are in it
    const since = new Date(Date.parse(checked.header.created_at) - 10 * 60_000);
    const rows = await this.repo.completedFundingSince(since);
    return rows.filter((r) => !checked.completedFunding.has(r.id));
  }

  /** MySQL, after the commit: counters raised to the backup's where they are below it (never lowered). */
  private async restoreCounters(tables: TableInfo[], checked: ValidatedBackup): Promise<void> {
    for (const t of tables) {
      const next = checked.nextIds[t.name];
      if (!t.autoIncrement || next === null || next === undefined) continue;
      try {
        await this.repo.raiseNextId(t, next);
      } catch (err) {
        this.logger.warn(
          `could not reset the counter of ${t.name}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /** Streams every table to `<kind>_<stamp>.json` through a temporary file renamed when complete. */
  private async writeBackup(kind: BackupKind): Promise<BackupResult> {
    const started = Date.now();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const createdAt = this.clock.now();
    let filename = `${kind}_${stampOf(createdAt)}.json`;
    for (let i = 2; await exists(join(this.dir, filename)); i++)
      filename = `${kind}_${stampOf(createdAt)}_${i}.json`;
    const temp = join(this.dir, `.${filename}.partial`);
    // owner-only: a backup holds password and token hashes
    const fh = await open(temp, 'wx', 0o600);
    let closed = false;
    try {
      let w = new FileWriter(fh);
      const counts = await this.tx.run(async (m) => {
        // a MySQL retry (deadlock, lock timeout) runs this again: start the file over
        await fh.truncate(0);
        w = new FileWriter(fh, 0);
        const tables = this.repo.tables();
        const header: BackupHeader = {
          format: BACKUP_FORMAT,
          format_version: BACKUP_FORMAT_VERSION,
          created_at: createdAt.toISOString(),
          app_version: this.config.version,
          schema_version: await this.repo.schemaVersion(m),
          dialect: this.repo.dialect,
        };
        await w.write(headerLine(header));
        const out: Record<string, number> = {};
        for (const [i, t] of tables.entries()) {
          await w.write(
            tableOpenLine(
              { name: t.name, columns: t.columns.map((c) => c.name), next_id: await this.repo.nextId(t, m) },
              i === 0,
            ),
          );
          const th = sha256();
          let n = 0;
          let after: Cell[] | null = null;
          for (;;) {
            const rows = await this.repo.page(t, after, READ_PAGE, m);
            for (const cells of rows) {
              const text = rowText(cells);
              th.update(`${text}\n`);
              await w.write(rowSeparator(n === 0) + text);
              n += 1;
            }
            if (rows.length < READ_PAGE) break;
            after = rows[rows.length - 1];
          }
          await w.write(tableCloseLine({ row_count: n, sha256: th.digest('hex') }, n > 0));
          out[t.name] = n;
        }
        await w.write(tablesEndLine(out, tables.length > 0));
        return out;
      });
      const fileSha = w.hash.digest('hex');
      await w.write(finalLine(fileSha), false);
      await w.flush();
      await fh.sync();
      await fh.close();
      closed = true;
      await rename(temp, join(this.dir, filename));
      return {
        filename,
        createdAt,
        sizeBytes: w.bytes,
        sha256: fileSha,
        tables: counts,
        durationMs: Date.now() - started,
      };
    } catch (err) {
      if (!closed) await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  /** Backup files, newest first (by the time in their header; the file time when it cannot be read). */
  private async list(): Promise<BackupFileDto[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: BackupFileDto[] = [];
    for (const name of names) {
      const kind = name.startsWith('safety_') ? 'safety' : name.startsWith('backup_') ? 'backup' : null;
      if (!kind || !name.endsWith('.json')) continue;
      const path = join(this.dir, name);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) continue;
      out.push({
        filename: name,
        created_at: (await headerTime(path)) ?? st.mtime.toISOString(),
        size_bytes: st.size,
        kind,
      });
    }
    return out.sort(
      (a, b) => b.created_at.localeCompare(a.created_at) || b.filename.localeCompare(a.filename),
    );
  }

  private async newest(kind: BackupKind): Promise<BackupFileDto | undefined> {
    return (await this.list()).find((f) => f.kind === kind);
  }

  /**
   * Keeps the newest BACKUP_KEEP files of a kind, and deletes that kind's temporary files left by a
   * process that died while writing one (older than STALE_PARTIAL_MS, so never one being written).
   */
  private async prune(kind: BackupKind): Promise<void> {
    const doomed = (await this.list())
      .filter((f) => f.kind === kind)
      .slice(this.config.backup.keep)
      .map((f) => f.filename);
    const now = this.clock.now().getTime();
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(`.${kind}_`) && n.endsWith('.partial'))) {
      const st = await stat(join(this.dir, name)).catch(() => null);
      if (st && now - st.mtimeMs > STALE_PARTIAL_MS) doomed.push(name);
    }
    for (const name of doomed) {
      await unlink(join(this.dir, name)).catch((err: unknown) =>
        this.logger.warn(`could not delete old backup ${name}: ${String(err)}`),
      );
    }
  }

  private async auditFailure(
    event: typeof AuditEvent.BACKUP_CREATE | typeof AuditEvent.BACKUP_RESTORE,
    action: string,
    trigger: BackupTrigger,
    err: unknown,
    started: number,
    extra: Record<string, unknown> | null,
  ): Promise<void> {
    const app = err instanceof AppError ? err : null;
    if (!app)
      this.logger.error(
        `${action} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    await this.audit
      .record({
        event,
        action: `${action} (${trigger.via})`,
        success: false,
        statusCode: app?.statusCode ?? 500,
        message: app?.message ?? 'internal error',
        actor: trigger.actor,
        metadata: {
          ...extra,
          code: app?.code ?? 'INTERNAL_ERROR',
          duration_ms: Date.now() - started,
          via: trigger.via,
        },
        request: trigger.meta,
      })
      .catch(() => undefined);
    markAudited(err);
  }
}

/** Rows per table for audit metadata, as "name=count" (a key such as refresh_tokens would be scrubbed). */
function rowsList(counts: Record<string, number>): string[] {
  return Object.entries(counts).map(([name, n]) => `${name}=${n}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** created_at from a backup's first line, without reading the rest. */
async function headerTime(path: string): Promise<string | null> {
  const rl = createInterface({
    input: createReadStream(path, { encoding: 'utf8', end: 4095 }),
    crlfDelay: Infinity,
  });
  try {
    for await (const line of rl) {
      const m = /"created_at":"([^"]+)"/.exec(line);
      return m && !Number.isNaN(Date.parse(m[1])) ? new Date(m[1]).toISOString() : null;
    }
    return null;
  } finally {
    rl.close();
  }
}
