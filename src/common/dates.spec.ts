import { AppError } from './errors/app-error';
import { parseDateParam, parseRange } from './dates';

describe('parseDateParam', () => {
  it('reads a bare date as UTC midnight, or its last millisecond for an end bound', () => {
    expect(parseDateParam('2026-01-31', 'from').toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseDateParam('2026-01-31', 'to', true).toISOString()).toBe('2026-01-31T23:59:59.999Z');
  });

  it('reads ISO timestamps with a zone', () => {
    expect(parseDateParam('2026-01-31T10:00:00+02:00', 'from').toISOString()).toBe(
      '2026-01-31T08:00:00.000Z',
    );
  });

  it.each(['2026-02-30', 'yesterday', '2026-01-31T10:00:00', ''])('refuses %p with a 400', (v) => {
    expect(() => parseDateParam(v, 'from')).toThrow(AppError);
  });

  it('refuses from after to', () => {
    expect(() => parseRange('2026-02-01', '2026-01-01')).toThrow('from must not be after to.');
    expect(parseRange('2026-01-01', '2026-01-01').to?.toISOString()).toBe('2026-01-01T23:59:59.999Z');
  });
});
