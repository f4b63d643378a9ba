import type { AuditLogDto } from './dto/log-query.dto';

/** The export's columns: the JSON log row's field names, in the same order. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'created_at',
  'event_type',
  'action',
  'success',
  'status_code',
  'message',
  'http_method',
  'path',
  'ip_address',
  'user_agent',
  'actor_user_id',
  'actor_username',
  'target_user_id',
  'metadata_json',
] as const satisfies readonly (keyof AuditLogDto)[];

export const AUDIT_CSV_HEADER = `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;

/** First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r\n]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One cell of free text (much of it client-controlled: user agent, user names, reasons, paths):
 * a leading `'` defuses a would-be formula, then RFC 4180 quoting (doubled quotes) when needed.
 */
export function csvText(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Numbers (ids, status codes) and booleans are written as they are: the server produced them and a
 * negative number is a number, not a formula. Text goes through csvText; null is an empty cell.
 */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return csvText(value);
}

/** One CSV record (CRLF-terminated, as RFC 4180 has it). */
export function auditCsvLine(row: AuditLogDto): string {
  return `${AUDIT_CSV_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`;
}
