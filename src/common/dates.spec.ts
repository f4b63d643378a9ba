import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { DateRangeQueryDto } from './date-range.dto';
import { AppError } from './errors/app-error';
import { parseDateParam, parseRange } from './dates';

describe('parseDateParam', () => {
  it('reads a bare date as UTC midnight, or its last millisecond for an end bound', () => {
    expect(parseDateParam('2026-01-31', 'from').toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseDateParam('2026-01-31', 'to', true).toISOString()).toBe('2026-01-31T23:59:59.999Z');
  });

  it.each([
    // datetime-local: minutes, no zone = UTC; as an end bound it covers that minute
    ['2026-12-02T21:46', '2026-12-02T21:46:00.000Z', '2026-12-02T21:46:59.999Z'],
    ['2026-12-02T21:46:07', '2026-12-02T21:46:07.000Z', '2026-12-02T21:46:07.999Z'],
    ['2026-12-02T21:46:07.5', '2026-12-02T21:46:07.500Z', '2026-12-02T21:46:07.500Z'],
    ['2026-12-02T21:46:07.123456789', '2026-12-02T21:46:07.123Z', '2026-12-02T21:46:07.123Z'],
    ['2026-12-02T21:46Z', '2026-12-02T21:46:00.000Z', '2026-12-02T21:46:59.999Z'],
    ['2026-12-02T21:46:07z', '2026-12-02T21:46:07.000Z', '2026-12-02T21:46:07.999Z'],
    ['2026-01-31T10:00:00.000+02:00', '2026-01-31T08:00:00.000Z', '2026-01-31T08:00:00.000Z'],
    ['2026-01-31T10:00:00-0530', '2026-01-31T15:30:00.000Z', '2026-01-31T15:30:00.999Z'],
    ['2026-01-31T10:00+03', '2026-01-31T07:00:00.000Z', '2026-01-31T07:00:59.999Z'],
    ['2026-01-01T01:00:00.000+02:00', '2025-12-31T23:00:00.000Z', '2025-12-31T23:00:00.000Z'],
    ['2024-02-29T00:00', '2024-02-29T00:00:00.000Z', '2024-02-29T00:00:59.999Z'],
  ])('reads %p as %p (from) and %p (to)', (input, from, to) => {
    expect(parseDateParam(input, 'from').toISOString()).toBe(from);
    expect(parseDateParam(input, 'to', true).toISOString()).toBe(to);
  });

  it('does not depend on the server time zone', () => {
    const before = process.env.TZ;
    process.env.TZ = 'Asia/Beirut';
    try {
      expect(parseDateParam('2026-12-02T21:46', 'from').toISOString()).toBe('2026-12-02T21:46:00.000Z');
    } finally {
      process.env.TZ = before;
    }
  });

  it.each([
    '2026-13-40T99:99',
    '2026-02-30',
    '2025-02-29T10:00',
    '2026-12-02T24:00',
    '2026-12-02T21:60',
    '2026-12-02T21:46:60',
    '2026-12-02T21:46+24:00',
    '2026-12-02 21:46',
    '2026-12-02T21',
    '2026-12-02T21:46:07.',
    '0999-01-01',
    '9999-12-31T23:59:59.999-23:59',
    '1000-01-01T00:00+01:00',
    '+02026-01-01',
    'yesterday',
    '1733175960',
    '',
  ])('refuses %p with a 400 naming the field', (v) => {
    let err: unknown;
    try {
      parseDateParam(v, 'from');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ statusCode: 400, details: [{ field: 'from' }] });
  });

  it('refuses from after to', () => {
    expect(() => parseRange('2026-02-01', '2026-01-01')).toThrow('from must not be after to.');
    expect(parseRange('2026-01-01', '2026-01-01').to?.toISOString()).toBe('2026-01-01T23:59:59.999Z');
    expect(() => parseRange('2026-01-01T10:01', '2026-01-01T10:00')).toThrow('from must not be after to.');
  });
});

describe('DateRangeQueryDto', () => {
  const errorsOf = (q: Record<string, unknown>) =>
    validateSync(plainToInstance(DateRangeQueryDto, q)).flatMap((e) => Object.values(e.constraints ?? {}));

  it('accepts what a datetime-local input sends, and every other accepted form', () => {
    expect(errorsOf({ from: '2026-12-02T21:46', to: '2026-12-05T21:46' })).toEqual([]);
    expect(errorsOf({ from: '2026-12-02', to: '2026-12-05T21:46:00.000+02:00' })).toEqual([]);
  });

  it('names the field and says what is wrong', () => {
    expect(errorsOf({ from: '2026-13-40T99:99' })).toEqual(['from 2026-13-40 is not a real date']);
    expect(errorsOf({ to: 'soon' })).toEqual([
      expect.stringMatching(/^to must be YYYY-MM-DD or an ISO-8601/),
    ]);
    expect(errorsOf({ to: ['2026-12-02'] })).toHaveLength(1);
  });
});
