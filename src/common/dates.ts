import { ValidationArguments, registerDecorator, type ValidationOptions } from 'class-validator';
import { BadRequestError } from './errors/app-error';

/**
 * The one grammar for timestamps in queries and bodies: `YYYY-MM-DD`, or an ISO-8601 date-time
 * `YYYY-MM-DDTHH:MM[:SS[.fraction]][zone]` with zone `Z`, `±HH:MM`, `±HHMM` or `±HH`. No zone means
 * UTC (never the server's local time). A browser's `<input type="datetime-local">` sends
 * `2026-12-02T21:46`.
 */
export const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/** Said in the OpenAPI descriptions of every timestamp input. */
export const TIMESTAMP_FORMS =
  '`YYYY-MM-DD`, or ISO-8601 `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional zone (`Z`, `+02:00`); no zone = UTC (a `datetime-local` value such as `2026-12-02T21:46` works as is)';

const FORM_MESSAGE =
  'must be YYYY-MM-DD or an ISO-8601 date-time (e.g. 2026-12-02T21:46 or 2026-12-02T21:46:00Z)';

export interface ParsedTimestamp {
  /** The start of what was written: midnight UTC for a bare date, the instant for a date-time. */
  date: Date;
  /** How much time the value names: a day, a minute or a second; 1 ms with a fraction (an instant). */
  spanMs: number;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses a timestamp input, or says why it is not one (a message without the field name). */
export function readTimestamp(value: unknown): ParsedTimestamp | { problem: string } {
  if (typeof value !== 'string') return { problem: FORM_MESSAGE };
  const m = TIMESTAMP.exec(value);
  if (!m) return { problem: FORM_MESSAGE };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const offsetSign = m[9] === '-' ? -1 : 1;
  const [offsetHours, offsetMinutes] = [Number(m[10] ?? 0), Number(m[11] ?? 0)];
  if (year < 1000) return { problem: 'year must be between 1000 and 9999' };
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month))
    return { problem: `${m[1]}-${m[2]}-${m[3]} is not a real date` };
  if (hour > 23 || minute > 59 || second > 59) return { problem: 'is not a real time of day' };
  if (offsetHours > 23 || offsetMinutes > 59) return { problem: 'has an impossible zone offset' };
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const offsetMs = offsetSign * (offsetHours * 60 + offsetMinutes) * 60_000;
  const date = new Date(local - offsetMs);
  const utcYear = date.getUTCFullYear();
  if (utcYear < 1000 || utcYear > 9999) return { problem: 'year must be between 1000 and 9999 (in UTC)' };
  const spanMs =
    m[4] === undefined ? 86_400_000 : m[6] === undefined ? 60_000 : m[7] === undefined ? 1000 : 1;
  return { date, spanMs };
}

/**
 * Parses a `from`/`to` (or any timestamp) input; a 400 naming the field otherwise. It means the start
 * of what was written, or with `inclusiveEnd` its last millisecond: `to=2026-01-31` includes the 31st,
 * `to=2026-12-05T21:46` (a datetime-local "now") includes that whole minute, `to=...T21:46:07` that
 * second; with a fraction it is that instant.
 */
export function parseDateParam(value: string, field: string, inclusiveEnd = false): Date {
  const read = readTimestamp(value);
  if ('problem' in read) {
    throw new BadRequestError(`${field} ${read.problem}.`, 'VALIDATION_FAILED', [
      { field, message: `${field} ${read.problem}` },
    ]);
  }
  return inclusiveEnd ? new Date(read.date.getTime() + read.spanMs - 1) : read.date;
}

/** class-validator rule for a timestamp input (same grammar as parseDateParam). */
export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isTimestamp',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => !('problem' in readTimestamp(value)),
        defaultMessage: (args?: ValidationArguments) => {
          const read = readTimestamp(args?.value);
          return `${args?.property ?? 'value'} ${'problem' in read ? read.problem : FORM_MESSAGE}`;
        },
      },
    });
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
