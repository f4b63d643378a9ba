import { createHash, type Hash } from 'node:crypto';

/**
 * The backup file: one JSON document laid out one element per line, so any JSON tool can read it and
 * we can write and read it as a stream (a large database never has to fit in memory):
 *
 *   {"format":"exchange-rate-api-backup","format_version":1,...header...,"tables":[
 *   {"name":"users","columns":["id",...],"next_id":3,"rows":[
 *   [1,"alice",...],
 *   [2,"bassem",...]
 *   ],"row_count":2,"sha256":"<of the table's row lines>"},
 *   ...
 *   ],"table_counts":{"users":2,...},
 *   "sha256":"<of every byte before this line>"}
 *
 * A table's sha256 is the SHA-256 of its row lines (each canonical row as JSON plus "\n", without the
 * separating commas), i.e. of its rows in primary-key order; the file's is of all bytes before the
 * last line, so a truncated or altered file is always detected.
 */
export const BACKUP_FORMAT = 'exchange-rate-api-backup';
export const BACKUP_FORMAT_VERSION = 1;

export interface BackupHeader {
  format: string;
  format_version: number;
  created_at: string;
  app_version: string;
  /** Name of the last migration applied to the database the backup was taken from. */
  schema_version: string;
  dialect: string;
}

export interface TableHeader {
  name: string;
  columns: string[];
  /** The next auto-increment value, when the table has one. */
  next_id: number | null;
}

export interface TableTrailer {
  row_count: number;
  sha256: string;
}

/** A canonical cell: JSON-safe and the same on both dialects. */
export type Cell = string | number | boolean | null;

export class BackupFormatError extends Error {}

export const sha256 = (): Hash => createHash('sha256');

// ---- writing ---------------------------------------------------------------------------------------

export function headerLine(h: BackupHeader): string {
  const json = JSON.stringify(h);
  return `${json.slice(0, -1)},"tables":[\n`;
}

export function tableOpenLine(t: TableHeader, first: boolean): string {
  const json = JSON.stringify(t);
  return `${first ? '' : ',\n'}${json.slice(0, -1)},"rows":[\n`;
}

/**
 * A row as written: its JSON, preceded by ",\n" unless it is the table's first row (so each row sits on
 * its own line, the comma ending the line before). The table's hash takes the JSON plus "\n".
 */
export function rowText(cells: Cell[]): string {
  return JSON.stringify(cells);
}

export function rowSeparator(first: boolean): string {
  return first ? '' : ',\n';
}

/** Ends a table's rows: a newline after the last row, if any, then the trailer. */
export function tableCloseLine(t: TableTrailer, anyRow: boolean): string {
  return `${anyRow ? '\n' : ''}],"row_count":${t.row_count},"sha256":${JSON.stringify(t.sha256)}}`;
}

export function tablesEndLine(counts: Record<string, number>, anyTable: boolean): string {
  return `${anyTable ? '\n' : ''}],"table_counts":${JSON.stringify(counts)},\n`;
}

export function finalLine(fileSha: string): string {
  return `"sha256":${JSON.stringify(fileSha)}}\n`;
}

// ---- reading ---------------------------------------------------------------------------------------

export type BackupEvent =
  | { kind: 'header'; header: BackupHeader }
  | { kind: 'table'; table: TableHeader }
  | { kind: 'row'; cells: Cell[]; line: string }
  | { kind: 'tableEnd'; trailer: TableTrailer }
  | { kind: 'end'; counts: Record<string, number>; sha256: string; computed: string };

const fail = (lineNo: number, why: string): never => {
  throw new BackupFormatError(`line ${lineNo}: ${why}`);
};

function parse(text: string, lineNo: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail(lineNo, 'not valid JSON');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a backup line by line (lines without their "\n") and yields its parts, checking the layout
 * and the whole-file SHA-256 as it goes; throws BackupFormatError on anything unexpected, including a
 * file that ends early. Table checksums are the caller's to check (it sees every row line).
 */
export async function* readBackup(lines: AsyncIterable<string>): AsyncGenerator<BackupEvent> {
  const hash = sha256();
  let lineNo = 0;
  let state: 'header' | 'tableOrEnd' | 'rows' | 'afterTable' | 'final' | 'done' = 'header';
  let pendingRow: string | null = null; // a row is yielded once we know whether a comma follows it
  let counts: Record<string, number> | null = null;
  for await (const raw of lines) {
    lineNo += 1;
    if (state === 'done') {
      if (raw === '') continue;
      fail(lineNo, 'content after the end of the backup');
    }
    if (state !== 'final') hash.update(`${raw}\n`);
    switch (state) {
      case 'header': {
        if (!raw.endsWith(',"tables":[')) fail(lineNo, 'not a backup header');
        const h = parse(`${raw.slice(0, -',"tables":['.length)}}`, lineNo);
        if (!isObject(h) || typeof h.format !== 'string' || typeof h.format_version !== 'number')
          fail(lineNo, 'not a backup header');
        yield { kind: 'header', header: h as BackupHeader };
        state = 'tableOrEnd';
        break;
      }
      case 'tableOrEnd': {
        if (raw.startsWith('],"table_counts":')) {
          counts = tableCounts(raw, lineNo);
          state = 'final';
          break;
        }
        if (!raw.endsWith(',"rows":[')) fail(lineNo, 'expected a table');
        const t = parse(`${raw.slice(0, -',"rows":['.length)}}`, lineNo);
        if (!isObject(t) || typeof t.name !== 'string' || !Array.isArray(t.columns))
          fail(lineNo, 'bad table header');
        yield { kind: 'table', table: t as TableHeader };
        state = 'rows';
        break;
      }
      case 'rows': {
        if (raw.startsWith('],"row_count":')) {
          if (pendingRow !== null) {
            yield rowEvent(pendingRow, lineNo - 1);
            pendingRow = null;
          }
          const closing = raw.endsWith(',') ? raw.slice(0, -1) : raw;
          const tr = parse(`{${closing.slice(2)}`, lineNo);
          if (!isObject(tr) || typeof tr.row_count !== 'number' || typeof tr.sha256 !== 'string')
            fail(lineNo, 'bad table trailer');
          yield { kind: 'tableEnd', trailer: tr as TableTrailer };
          state = raw.endsWith(',') ? 'tableOrEnd' : 'afterTable';
          break;
        }
        if (pendingRow !== null) {
          if (!pendingRow.endsWith(',')) fail(lineNo - 1, 'missing comma between rows');
          yield rowEvent(pendingRow.slice(0, -1), lineNo - 1);
        }
        pendingRow = raw;
        break;
      }
      case 'afterTable': {
        // the line after the last table's trailer: the tables end
        if (!raw.startsWith('],"table_counts":')) fail(lineNo, 'expected the table counts');
        counts = tableCounts(raw, lineNo);
        state = 'final';
        break;
      }
      case 'final': {
        const computed = hash.digest('hex');
        const fin = parse(`{${raw}`, lineNo);
        if (!isObject(fin) || typeof fin.sha256 !== 'string') fail(lineNo, 'bad final checksum line');
        yield {
          kind: 'end',
          counts: counts ?? {},
          sha256: String((fin as { sha256: string }).sha256),
          computed,
        };
        state = 'done';
        break;
      }
    }
  }
  if (state !== 'done') fail(lineNo, 'the file ends early (truncated)');
}

function tableCounts(raw: string, lineNo: number): Record<string, number> {
  if (!raw.endsWith(',')) fail(lineNo, 'bad table counts');
  const parsed = parse(`{${raw.slice(2, -1)}}`, lineNo);
  if (!isObject(parsed) || !isObject(parsed.table_counts)) fail(lineNo, 'bad table counts');
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries((parsed as { table_counts: Record<string, unknown> }).table_counts)) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(lineNo, `bad count for ${k}`);
    out[k] = v as number;
  }
  return out;
}

function rowEvent(text: string, lineNo: number): BackupEvent {
  const cells = parse(text, lineNo);
  if (!Array.isArray(cells)) fail(lineNo, 'a row must be an array');
  return { kind: 'row', cells: cells as Cell[], line: `${text}\n` };
}
