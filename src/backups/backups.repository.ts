import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type EntityMetadata } from 'typeorm';
import { type Dialect, dbDate, dialectOf, readDbDate } from '../database/dialect';
import { AuditLogEntity } from '../audit/audit-log.entity';
import { StreamTicketEntity } from '../stream/stream-ticket.entity';
import { AuthSessionEntity } from '../auth/auth-session.entity';
import { RefreshTokenEntity } from '../auth/refresh-token.entity';
import { LeaseEntity } from '../scheduler/lease.entity';
import { ReferenceEpochEntity } from '../rates/reference-epoch.entity';
import { FundingRequestEntity } from '../funding/funding-request.entity';
import { UserEntity } from '../users/user.entity';
import { formatMinor } from '../common/money';
import { BackupFormatError, type Cell } from './backup-format';

export type ColumnKind = 'bigint' | 'int' | 'boolean' | 'datetime' | 'double' | 'text';

export interface TableInfo {
  name: string;
  columns: { name: string; kind: ColumnKind }[];
  /** Primary-key columns, in key order (rows are read and hashed in this order). */
  primary: string[];
  /** Whether the table has an auto-increment key whose counter a restore must bring back. */
  autoIncrement: boolean;
  /**
   * What a restore does with it: `replace` its rows with the file's; `append` the file's rows that are
   * missing and keep the rest (the audit trail only grows: a restore never erases who did what); or
   * `clear` it (sessions and refresh tokens: every session ends, so a session revoked since the backup
   * cannot come back; they stay in the file for the record).
   */
  restore: 'replace' | 'append' | 'clear';
}

/** The table of deposits and withdrawals (a restore checks it for money that moved after the backup). */
export const FUNDING_TABLE = 'funding_requests';

/** A deposit confirmed or a withdrawal completed after a backup was taken. */
export interface FundingAfterBackup {
  id: number;
  kind: 'DEPOSIT' | 'WITHDRAWAL';
  userId: number;
  currency: string;
  /** Major units, as text (exact). */
  amount: string;
  decidedAt: Date | null;
  decidedBy: number | null;
}

export function describeFunding(f: FundingAfterBackup): string {
  const what = f.kind === 'DEPOSIT' ? 'deposit' : 'withdrawal';
  const done = f.kind === 'DEPOSIT' ? 'confirmed' : 'completed (paid out)';
  return `${what} #${f.id} of ${f.amount} ${f.currency} for user ${f.userId}, ${done} ${f.decidedAt ? f.decidedAt.toISOString() : ''} after the backup`.trim();
}

/** The restoring admin's session and its refresh tokens, read before the tables are replaced. */
export interface KeptSession {
  session: AuthSessionEntity;
  tokens: RefreshTokenEntity[];
  /** The kept rows by table (for the restore's row counts). */
  rows: Record<string, unknown[]>;
}

export interface ForeignKeyInfo {
  table: string;
  columns: string[];
  parent: string;
  parentColumns: string[];
}

/** A table's columns with their index in a row, but the one at `except`. */
function columnsExcept(table: TableInfo, except?: number): (TableInfo['columns'][number] & { i: number })[] {
  return table.columns.map((c, i) => ({ ...c, i })).filter((c) => c.i !== except);
}

/** Runtime coordination, not data: the scheduler's leases are neither backed up nor restored. */
/** Not backed up: the scheduler's leases, and the reference epoch (a restore writes a new one). */
const EXCLUDED = new Set<unknown>([LeaseEntity, ReferenceEpochEntity]);
const APPEND_ONLY = new Set<unknown>([AuditLogEntity]);
const CLEARED = new Set<unknown>([AuthSessionEntity, RefreshTokenEntity, StreamTicketEntity]);

function kindOf(type: unknown): ColumnKind {
  const t = typeof type === 'function' ? type.name.toLowerCase() : String(type).toLowerCase();
  if (t === 'bigint') return 'bigint';
  if (t === 'int' || t === 'integer' || t === 'number') return 'int';
  if (t === 'boolean' || t === 'bool') return 'boolean';
  if (t === 'datetime' || t === 'timestamp' || t === 'date') return 'datetime';
  if (t === 'double' || t === 'float' || t === 'real') return 'double';
  return 'text';
}

/** Parents before children (foreign keys), then by name, so inserts never miss their parent row. */
function ordered(metas: EntityMetadata[]): EntityMetadata[] {
  const byName = new Map(metas.map((m) => [m.tableName, m]));
  const out: EntityMetadata[] = [];
  const seen = new Set<string>();
  const visit = (m: EntityMetadata): void => {
    if (seen.has(m.tableName)) return;
    seen.add(m.tableName);
    for (const fk of m.foreignKeys) {
      const parent = byName.get(fk.referencedEntityMetadata.tableName);
      if (parent && parent !== m) visit(parent);
    }
    out.push(m);
  };
  for (const m of [...metas].sort((a, b) => a.tableName.localeCompare(b.tableName))) visit(m);
  return out;
}

const quote = (d: Dialect, name: string): string =>
  d === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;

/** Raw access to every table for backups and restores: reads in key order, bulk deletes and inserts. */
@Injectable()
export class BackupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get dialect(): Dialect {
    return dialectOf(this.dataSource);
  }

  /** Every backed-up table, parents first. */
  tables(): TableInfo[] {
    return ordered(this.dataSource.entityMetadatas.filter((m) => !EXCLUDED.has(m.target))).map((m) => ({
      name: m.tableName,
      columns: m.columns.map((c) => ({ name: c.databaseName, kind: kindOf(c.type) })),
      primary: m.primaryColumns.map((c) => c.databaseName),
      autoIncrement: m.primaryColumns.some((c) => c.generationStrategy === 'increment'),
      restore: APPEND_ONLY.has(m.target) ? 'append' : CLEARED.has(m.target) ? 'clear' : 'replace',
    }));
  }

  /** Every foreign key between backed-up tables. */
  foreignKeys(): ForeignKeyInfo[] {
    return this.dataSource.entityMetadatas
      .filter((m) => !EXCLUDED.has(m.target))
      .flatMap((m) =>
        m.foreignKeys.map((fk) => ({
          table: m.tableName,
          columns: fk.columns.map((c) => c.databaseName),
          parent: fk.referencedEntityMetadata.tableName,
          parentColumns: fk.referencedColumns.map((c) => c.databaseName),
        })),
      );
  }

  /** Rows of `fk.table` whose foreign key names no parent row (checked after a restore, on both dialects). */
  async orphans(fk: ForeignKeyInfo, m: EntityManager): Promise<number> {
    const d = this.dialect;
    const on = fk.columns
      .map((c, i) => `c.${quote(d, c)} = p.${quote(d, fk.parentColumns[i])}`)
      .join(' AND ');
    const notNull = fk.columns.map((c) => `c.${quote(d, c)} IS NOT NULL`).join(' AND ');
    const rows: { n: unknown }[] = await m.query(
      `SELECT COUNT(*) AS n FROM ${quote(d, fk.table)} c LEFT JOIN ${quote(d, fk.parent)} p ON ${on}
       WHERE ${notNull} AND p.${quote(d, fk.parentColumns[0])} IS NULL`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Every user's transactions_count recomputed from the transactions (after a restore). */
  async recountTransactions(m: EntityManager): Promise<void> {
    await m.query(
      'UPDATE users SET transactions_count = (SELECT COUNT(*) FROM transactions t WHERE t.user_id = users.id)',
    );
  }

  /** The last migration applied: the schema version a backup belongs to. */
  async schemaVersion(m?: EntityManager): Promise<string> {
    const rows: { name: string }[] = await (m ?? this.dataSource.manager).query(
      'SELECT name FROM migrations ORDER BY timestamp DESC, id DESC LIMIT 1',
    );
    return rows[0]?.name ?? '(none)';
  }

  /** The next auto-increment value of a table (null when it has none yet on SQLite). */
  async nextId(table: TableInfo, m: EntityManager): Promise<number | null> {
    if (!table.autoIncrement) return null;
    if (this.dialect === 'sqlite') {
      const rows: { seq: number }[] = await m.query('SELECT seq FROM sqlite_sequence WHERE name = ?', [
        table.name,
      ]);
      return rows.length === 0 ? 1 : Number(rows[0].seq) + 1;
    }
    // MySQL 8 caches information_schema statistics (a day by default); MariaDB has no such variable
    await m.query('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
    const rows: { n: unknown }[] = await m.query(
      'SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [table.name],
    );
    const n = rows[0]?.n;
    return n === null || n === undefined ? null : Number(n);
  }

  /** Up to `limit` rows after the key `after` (keyset paging in primary-key order), as canonical cells. */
  async page(table: TableInfo, after: Cell[] | null, limit: number, m: EntityManager): Promise<Cell[][]> {
    const d = this.dialect;
    const cols = table.columns.map((c) => quote(d, c.name)).join(', ');
    const pk = table.primary.map((c) => quote(d, c));
    const params: unknown[] = [];
    let where = '';
    if (after) {
      // (a, b) > (x, y) spelled out: a > x OR (a = x AND b > y)
      const keyParams = table.primary.map((name, i) =>
        this.toParam(after[this.indexOf(table, name)], table.columns[this.indexOf(table, name)].kind, i),
      );
      const ors: string[] = [];
      for (let i = 0; i < pk.length; i++) {
        const parts = pk.slice(0, i).map((c) => `${c} = ?`);
        parts.push(`${pk[i]} > ?`);
        ors.push(`(${parts.join(' AND ')})`);
        params.push(...keyParams.slice(0, i), keyParams[i]);
      }
      where = `WHERE ${ors.join(' OR ')}`;
    }
    const rows: Record<string, unknown>[] = await m.query(
      `SELECT ${cols} FROM ${quote(d, table.name)} ${where} ORDER BY ${pk.join(', ')} LIMIT ${Math.floor(limit)}`,
      params,
    );
    return rows.map((r) => table.columns.map((c) => this.toCell(r[c.name], c.kind)));
  }

  private indexOf(table: TableInfo, column: string): number {
    return table.columns.findIndex((c) => c.name === column);
  }

  /** Completed deposits and withdrawals decided since `since`, oldest first. */
  async completedFundingSince(since: Date): Promise<FundingAfterBackup[]> {
    const rows = await this.dataSource
      .getRepository(FundingRequestEntity)
      .createQueryBuilder('f')
      .where('f.status = :s', { s: 'COMPLETED' })
      .andWhere('(f.decided_at >= :since OR f.decided_at IS NULL)', { since })
      .orderBy('f.id', 'ASC')
      .getMany();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      userId: r.userId,
      currency: r.currency,
      amount: formatMinor(r.amount),
      decidedAt: r.decidedAt,
      decidedBy: r.decidedBy,
    }));
  }

  /** A session and its refresh tokens as they are now (null: no such live session). */
  async sessionRows(sessionId: string, m: EntityManager): Promise<KeptSession | null> {
    const session = await m.getRepository(AuthSessionEntity).findOne({ where: { id: sessionId } });
    if (!session || session.revokedAt !== null) return null;
    const tokens = await m
      .getRepository(RefreshTokenEntity)
      .find({ where: { sessionId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return {
      session,
      tokens,
      rows: {
        [this.dataSource.getMetadata(AuthSessionEntity).tableName]: [session],
        [this.dataSource.getMetadata(RefreshTokenEntity).tableName]: tokens,
      },
    };
  }

  /**
   * After the tables were replaced: puts the session back if its user is an active admin in the
   * restored data (the restoring admin stays signed in); false otherwise (that session ends too).
   */
  async restoreSession(kept: KeptSession, userId: number, m: EntityManager): Promise<boolean> {
    if (kept.session.userId !== userId) return false;
    const user = await m.getRepository(UserEntity).findOne({ where: { id: userId } });
    if (!user || user.role !== 'ADMIN' || user.status !== 'ACTIVE') return false;
    await m.getRepository(AuthSessionEntity).insert(kept.session);
    // parents before children: each token refers to the one it was issued from
    for (const token of kept.tokens) await m.getRepository(RefreshTokenEntity).insert(token);
    return true;
  }

  async count(table: string, m: EntityManager): Promise<number> {
    const rows: { n: unknown }[] = await m.query(`SELECT COUNT(*) AS n FROM ${quote(this.dialect, table)}`);
    return Number(rows[0]?.n ?? 0);
  }

  async deleteAll(table: string, m: EntityManager): Promise<void> {
    await m.query(`DELETE FROM ${quote(this.dialect, table)}`);
  }

  /**
   * Inserts canonical rows in one statement; `withoutColumn` (an index) leaves that column out, so
   * an auto-increment key is handed out anew.
   */
  async insertRows(
    table: TableInfo,
    rows: Cell[][],
    m: EntityManager,
    withoutColumn?: number,
  ): Promise<void> {
    if (rows.length === 0) return;
    const d = this.dialect;
    const columns = columnsExcept(table, withoutColumn);
    const placeholders = `(${columns.map(() => '?').join(', ')})`;
    const params: unknown[] = [];
    for (const row of rows) for (const c of columns) params.push(this.toParam(row[c.i], c.kind, c.i));
    await m.query(
      `INSERT INTO ${quote(d, table.name)} (${columns.map((c) => quote(d, c.name)).join(', ')}) VALUES ${rows
        .map(() => placeholders)
        .join(', ')}`,
      params,
    );
  }

  /**
   * An append-only table (the audit trail) gains the file's rows it lacks, and loses none of its
   * own: a row whose key is free goes in as it is; a row identical to the one under its key is
   * already there (a restore into the database the backup was taken from); a different row under
   * its key (a backup of another database, or one whose counter went back) goes in under a new key.
   * Returns how many rows were given a new key.
   */
  async appendRows(table: TableInfo, rows: Cell[][], m: EntityManager): Promise<number> {
    if (rows.length === 0) return 0;
    if (table.primary.length !== 1 || !table.autoIncrement)
      throw new Error(`${table.name}: appending needs a single auto-increment key`);
    const d = this.dialect;
    const k = this.indexOf(table, table.primary[0]);
    const key = table.columns[k];
    const present: Record<string, unknown>[] = await m.query(
      `SELECT ${table.columns.map((c) => quote(d, c.name)).join(', ')} FROM ${quote(d, table.name)}
        WHERE ${quote(d, key.name)} IN (${rows.map(() => '?').join(', ')})`,
      rows.map((row) => this.toParam(row[k], key.kind, k)),
    );
    const byKey = new Map(
      present.map((r) => {
        const cells = table.columns.map((c) => this.toCell(r[c.name], c.kind));
        return [String(cells[k]), cells];
      }),
    );
    const free: Cell[][] = [];
    const taken: Cell[][] = [];
    for (const row of rows) {
      const there = byKey.get(String(row[k]));
      if (!there) free.push(row);
      else if (there.some((cell, i) => cell !== row[i]) && !(await this.hasCopy(table, row, k, m)))
        taken.push(row);
    }
    await this.insertRows(table, free, m);
    await this.insertRows(table, taken, m, k);
    return taken.length;
  }

  /**
   * Whether a row equal to `row` in every column but the key is there (given a new key by an
   * earlier restore of the same file). Plain `=` and `IS NULL` find the candidates (the created_at
   * index serves them), compared exactly here.
   */
  private async hasCopy(table: TableInfo, row: Cell[], k: number, m: EntityManager): Promise<boolean> {
    const d = this.dialect;
    const others = columnsExcept(table, k);
    const where = others.map((c) => `${quote(d, c.name)} ${row[c.i] === null ? 'IS NULL' : '= ?'}`);
    const params = others.filter((c) => row[c.i] !== null).map((c) => this.toParam(row[c.i], c.kind, c.i));
    const found: Record<string, unknown>[] = await m.query(
      `SELECT ${others.map((c) => quote(d, c.name)).join(', ')} FROM ${quote(d, table.name)} WHERE ${where.join(' AND ')}`,
      params,
    );
    // exactly equal: MySQL's text comparison ignores case and trailing spaces
    return found.some((r) => others.every((c) => this.toCell(r[c.name], c.kind) === row[c.i]));
  }

  /**
   * While every table is replaced: MySQL turns foreign-key checks off for this connection (and on
   * again after: they are not re-checked, which is why a restore counts orphans itself); SQLite defers
   * them to the commit (the pragma ends with the transaction, so it is never turned off early, which
   * would drop the deferred checks).
   */
  async setForeignKeyChecks(on: boolean, m: EntityManager): Promise<void> {
    if (this.dialect === 'mysql') await m.query(`SET FOREIGN_KEY_CHECKS = ${on ? 1 : 0}`);
    else if (!on) await m.query('PRAGMA defer_foreign_keys = ON');
  }

  /**
   * Raises an auto-increment counter to the backup's next id when it is below it (a fresh database),
   * never lowers it (ids handed out since the backup are not handed out again). SQLite: inside the
   * restore's transaction. MySQL: ALTER TABLE commits implicitly, so after the restore has committed.
   */
  async raiseNextId(table: TableInfo, next: number, m?: EntityManager): Promise<void> {
    const q = m ?? this.dataSource.manager;
    const current = await this.nextId(table, q);
    // never lower: ids handed out since the backup are not handed out again
    if (current !== null && current >= next) return;
    if (this.dialect === 'sqlite') {
      await q.query('DELETE FROM sqlite_sequence WHERE name = ?', [table.name]);
      await q.query('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', [table.name, next - 1]);
      return;
    }
    const name = table.name;
    await q.query(`ALTER TABLE ${quote('mysql', name)} AUTO_INCREMENT = ${Math.max(1, Math.floor(next))}`);
  }

  /** A database value as a canonical cell (the same on both dialects). */
  toCell(value: unknown, kind: ColumnKind): Cell {
    if (value === null || value === undefined) return null;
    switch (kind) {
      case 'bigint':
        return BigInt(value as string | number | bigint).toString();
      case 'int':
      case 'double':
        return Number(value);
      case 'boolean':
        return Number(value) !== 0;
      case 'datetime':
        return readDbDate(value).toISOString();
      default:
        if (Buffer.isBuffer(value)) return value.toString('utf8');
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint')
          return String(value);
        throw new TypeError(`unexpected ${typeof value} in a text column`);
    }
  }

  /** A canonical cell as a query parameter; throws BackupFormatError when it does not fit the column. */
  toParam(cell: Cell, kind: ColumnKind, index: number): unknown {
    if (cell === null) return null;
    const bad = (): never => {
      // the value itself is not echoed: it may be a password hash
      throw new BackupFormatError(`column ${index + 1} does not hold a valid ${kind}`);
    };
    switch (kind) {
      case 'bigint':
        return typeof cell === 'string' && /^-?\d{1,19}$/.test(cell) ? BigInt(cell) : bad();
      case 'int':
        return typeof cell === 'number' && Number.isSafeInteger(cell) ? cell : bad();
      case 'double':
        return typeof cell === 'number' && Number.isFinite(cell) ? cell : bad();
      case 'boolean':
        return typeof cell === 'boolean' ? (cell ? 1 : 0) : bad();
      case 'datetime': {
        if (typeof cell !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(cell))
          return bad();
        const date = new Date(cell);
        return Number.isNaN(date.getTime()) ? bad() : dbDate(this.dialect, date);
      }
      default:
        return typeof cell === 'string' ? cell : bad();
    }
  }
}
