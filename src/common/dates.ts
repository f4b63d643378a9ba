import { BadRequestError } from './errors/app-error';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Accepted query format for dates: `YYYY-MM-DD` (UTC day) or an ISO-8601 timestamp with a zone. */
export const DATE_PARAM_PATTERN =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * Parses a `from`/`to` query value. A bare date means the start of that UTC day, or its last
 * millisecond when `endOfDay` (so `to=2026-01-31` includes the 31st).
 */
export function parseDateParam(value: string, field: string, endOfDay = false): Date {
  if (!DATE_ONLY.test(value) && !ISO.test(value)) {
    throw new BadRequestError(
      `${field} must be a date (YYYY-MM-DD) or an ISO-8601 timestamp.`,
      'VALIDATION_FAILED',
      [{ field, message: 'must be YYYY-MM-DD or ISO-8601' }],
    );
  }
  const d = DATE_ONLY.test(value) ? new Date(`${value}T00:00:00.000Z`) : new Date(value);
  if (Number.isNaN(d.getTime()) || (DATE_ONLY.test(value) && d.toISOString().slice(0, 10) !== value)) {
    throw new BadRequestError(`${field} is not a real date.`, 'VALIDATION_FAILED', [
      { field, message: 'not a real date' },
    ]);
  }
  if (d.getUTCFullYear() < 1000 || d.getUTCFullYear() > 9999) {
    throw new BadRequestError(`${field} must be between the years 1000 and 9999.`, 'VALIDATION_FAILED', [
      { field, message: 'year out of range' },
    ]);
  }
  if (endOfDay && DATE_ONLY.test(value)) return new Date(d.getTime() + 86_400_000 - 1);
  return d;
}

/** Parses an optional `from`/`to` pair and refuses `from > to`. */
export function parseRange(from?: string, to?: string): { from?: Date; to?: Date } {
  const f = from === undefined ? undefined : parseDateParam(from, 'from');
  const t = to === undefined ? undefined : parseDateParam(to, 'to', true);
  if (f && t && f.getTime() > t.getTime()) {
    throw new BadRequestError('from must not be after to.', 'VALIDATION_FAILED', [
      { field: 'from', message: 'after to' },
    ]);
  }
  return { from: f, to: t };
}

/** A UTC time for file names, `YYYYMMDD_HHMMSS` (e.g. the CSV exports' `..._20261125_201500.csv`). */
export function fileStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}
