import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import { type ErrorDetail, ValidationFailedError } from '../common/errors/app-error';
import { toMinor } from '../common/money';
import { readTimestamp } from '../common/dates';
import { CreateRateSampleDto } from './dto/admin-rates.dto';
import type { Direction } from './rate-sample.entity';

/**
 * Reading and checking the rows of a rate import (JSON or CSV) before anything is stored: each row
 * goes through the same rules as POST /admin/rates and is reported by its number when it fails.
 */
export type ImportFormat = 'json' | 'csv';

/** An import request: a JSON body (array or `{samples}`) or CSV text. */
export interface ImportPayload {
  format: ImportFormat;
  body: unknown;
}

export interface FieldError {
  field: string;
  message: string;
}

/** A sample that passed every check, ready for RatesService.record(). */
export interface CheckedSample {
  direction: Direction;
  rate: number;
  usdVolume: bigint;
  createdAt: Date;
}

export type RowCheck = { sample: CheckedSample } | { errors: FieldError[] };

/** One row of an import as read from the request, before its fields are checked. */
export type RawRow = { row: number; value: unknown } | { row: number; errors: FieldError[] };

export const CSV_COLUMNS = ['direction', 'rate', 'usd_volume', 'created_at'] as const;
const NUMERIC_COLUMNS = new Set<string>(['rate', 'usd_volume']);
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** DATETIME(3) holds far older values, but a rate sample from before 1970 is a typo. */
const EARLIEST_SAMPLE = Date.UTC(1970, 0, 1);
const ROW_SHAPE = 'must be an object {direction, rate, usd_volume?, created_at?}';

/** `text/csv` (any parameters) is CSV; everything else went through the JSON parser. */
export function importFormatOf(contentType: string | undefined): ImportFormat {
  return /^\s*text\/csv\s*(;|$)/i.test(contentType ?? '') ? 'csv' : 'json';
}

/**
 * Splits CSV text into records (RFC 4180: quoted fields with "" escapes and line breaks, CRLF or LF
 * line ends, a leading BOM). Blank lines are skipped. An unterminated quote refuses the whole text.
 */
export function parseCsv(text: string): string[][] {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let inQuotes = false;
  let wasQuoted = false;
  let line = 1;
  let quoteLine = 0;
  const endField = (): void => {
    record.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = (): void => {
    endField();
    if (!(record.length === 1 && record[0].trim() === '')) records.push(record);
    record = [];
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inQuotes) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field.trim() === '' && !wasQuoted) {
      inQuotes = true;
      wasQuoted = true;
      quoteLine = line;
      field = '';
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      endRecord();
      line++;
      if (c === '\r' && src[i + 1] === '\n') i++;
    } else {
      field += c;
    }
  }
  if (inQuotes) {
    throw new ValidationFailedError(
      [{ field: 'csv', message: `the quoted field opened on line ${quoteLine} is never closed` }],
      'The CSV is not well formed.',
    );
  }
  if (field !== '' || wasQuoted || record.length > 0) endRecord();
  return records;
}

/**
 * The rows of a CSV import. The first record is the header: a subset of
 * `direction,rate,usd_volume,created_at` in any order, with direction and rate required. Numbers are
 * read as numbers only when they look like one, so "abc" or "89,500" fail the row's rate check.
 */
export function csvRows(text: unknown): RawRow[] {
  if (typeof text !== 'string') {
    throw new ValidationFailedError([{ field: 'csv', message: 'the body must be CSV text' }]);
  }
  const [header, ...records] = parseCsv(text);
  const expected = `expected a header of ${CSV_COLUMNS.join(',')}`;
  if (!header) throw new ValidationFailedError([{ field: 'csv', message: `is empty; ${expected}` }]);
  const names = header.map((h) => h.trim().toLowerCase());
  const problems: ErrorDetail[] = [];
  names.forEach((n, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(n))
      problems.push({ field: 'header', message: `unknown column "${header[i].trim()}"; ${expected}` });
    else if (names.indexOf(n) !== i)
      problems.push({ field: 'header', message: `column "${n}" appears twice` });
  });
  for (const required of ['direction', 'rate'])
    if (!names.includes(required))
      problems.push({ field: 'header', message: `the "${required}" column is missing; ${expected}` });
  if (problems.length > 0) throw new ValidationFailedError(problems, 'The CSV header is not valid.');
  return records.map((cells, i): RawRow => {
    const row = i + 1;
    if (cells.length > names.length) {
      return {
        row,
        errors: [
          { field: 'row', message: `has ${cells.length} values but the header has ${names.length} columns` },
        ],
      };
    }
    const value: Record<string, unknown> = {};
    cells.forEach((cell, c) => {
      const text = cell.trim();
      if (text === '') return;
      value[names[c]] = NUMERIC_COLUMNS.has(names[c]) && NUMBER_TEXT.test(text) ? Number(text) : text;
    });
    return { row, value };
  });
}

/** The rows of a JSON import: an array of samples, or `{samples: [...]}`. */
export function jsonRows(body: unknown): RawRow[] {
  let list: unknown = body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const extra = Object.keys(body).filter((k) => k !== 'samples');
    if (extra.length > 0)
      throw new ValidationFailedError(
        extra.map((f) => ({ field: f, message: `${f} is not an accepted field` })),
      );
    list = (body as { samples?: unknown }).samples;
  }
  if (!Array.isArray(list)) {
    throw new ValidationFailedError(
      [{ field: 'samples', message: 'must be an array of samples' }],
      'Send a JSON array of samples, {"samples": [...]}, or CSV text with Content-Type: text/csv.',
    );
  }
  return list.map((value: unknown, i) => ({ row: i + 1, value }));
}

function fieldErrors(errors: ValidationError[]): FieldError[] {
  return errors.flatMap((e) =>
    Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      field: e.property,
      message: rule === 'whitelistValidation' ? `${e.property} is not an accepted field` : message,
    })),
  );
}

/** The checks class-validator cannot make: a time that is real, not in the future, not absurdly old. */
export function toCheckedSample(dto: CreateRateSampleDto, now: Date): RowCheck {
  const read = dto.created_at == null ? { date: now } : readTimestamp(dto.created_at);
  if ('problem' in read) return { errors: [{ field: 'created_at', message: `created_at ${read.problem}` }] };
  const createdAt = read.date;
  if (createdAt.getTime() > now.getTime())
    return { errors: [{ field: 'created_at', message: 'created_at must not be in the future' }] };
  if (createdAt.getTime() < EARLIEST_SAMPLE)
    return { errors: [{ field: 'created_at', message: 'created_at must not be before 1970-01-01' }] };
  return {
    sample: {
      direction: dto.direction,
      rate: dto.rate,
      usdVolume: toMinor(dto.usd_volume ?? 1),
      createdAt,
    },
  };
}

/** One import row through the same rules as POST /admin/rates (unknown fields refused). */
export function checkRow(value: unknown, now: Date): RowCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { errors: [{ field: 'row', message: ROW_SHAPE }] };
  const dto = plainToInstance(CreateRateSampleDto, value);
  const errors = validateSync(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    validationError: { target: false, value: false },
  });
  return errors.length > 0 ? { errors: fieldErrors(errors) } : toCheckedSample(dto, now);
}
