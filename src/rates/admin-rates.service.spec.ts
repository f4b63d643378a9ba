import type { OfficialRateService } from './official-rate.service';
import type { AlertsService } from '../alerts/alerts.service';
import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { NO_REQUEST } from '../common/http/request-meta';
import type { AppConfig } from '../config/app-config';
import type { TransactionRunner } from '../database/transaction-runner';
import { AdminRatesService } from './admin-rates.service';
import { checkRow, csvRows, importFormatOf, jsonRows, parseCsv } from './sample-import';
import type { DataQualityRepository } from './data-quality.repository';
import type { RateSampleEntity } from './rate-sample.entity';
import type { NewSample, RatesService } from './rates.service';

const NOW = new Date('2026-01-10T12:00:00.000Z');

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('parseCsv', () => {
  it('splits records on LF and CRLF, skips blank lines and a BOM', () => {
    expect(parseCsv('\uFEFFa,b\r\n1,2\n\n3,4\r\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('reads quoted fields with commas, "" escapes and line breaks', () => {
    expect(parseCsv('x,y\n"a,b","say ""hi""\nthere"\n')).toEqual([
      ['x', 'y'],
      ['a,b', 'say "hi"\nthere'],
    ]);
  });

  it('keeps empty trailing fields and a last record without a newline', () => {
    expect(parseCsv('a,b,c\n1,,\n2,3')).toEqual([
      ['a', 'b', 'c'],
      ['1', '', ''],
      ['2', '3'],
    ]);
  });

  it('refuses an unterminated quote, naming its line', () => {
    const err = errorOf(() => parseCsv('a\n"oops\nmore'));
    expect(err.statusCode).toBe(400);
    expect(err.details?.[0].message).toContain('line 2');
  });
});

describe('csvRows', () => {
  it('maps cells to fields by the header, numbers only where they look like numbers', () => {
    const sut = csvRows(
      'direction,rate,usd_volume,created_at\nusd_to_lbp,89500,12.5,2026-01-01T00:00:00Z\nlbp_to_usd,abc,,\n',
    );
    expect(sut).toEqual([
      {
        row: 1,
        value: { direction: 'usd_to_lbp', rate: 89500, usd_volume: 12.5, created_at: '2026-01-01T00:00:00Z' },
      },
      { row: 2, value: { direction: 'lbp_to_usd', rate: 'abc' } },
    ]);
  });

  it('accepts the columns in any order, case and spacing aside, and optional columns left out', () => {
    expect(csvRows(' Rate , DIRECTION\n90000,usd_to_lbp\n')).toEqual([
      { row: 1, value: { rate: 90000, direction: 'usd_to_lbp' } },
    ]);
  });

  it('reports a row with more values than columns', () => {
    expect(csvRows('direction,rate\nusd_to_lbp,1,2\n')).toEqual([
      { row: 1, errors: [{ field: 'row', message: 'has 3 values but the header has 2 columns' }] },
    ]);
  });

  it.each([
    ['', 'is empty'],
    ['usd_to_lbp,89500\n', 'unknown column "usd_to_lbp"'],
    ['direction,rate,rate\n', 'appears twice'],
    ['direction,usd_volume\n', '"rate" column is missing'],
  ])('refuses the header of %p', (text, message) => {
    const err = errorOf(() => csvRows(text));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details?.map((d) => d.message).join(' ')).toContain(message);
  });

  it('refuses a body that is not text', () => {
    expect(errorOf(() => csvRows({ a: 1 })).statusCode).toBe(400);
  });
});

describe('jsonRows', () => {
  it('takes an array or {samples}', () => {
    expect(jsonRows([{ a: 1 }, 2])).toEqual([
      { row: 1, value: { a: 1 } },
      { row: 2, value: 2 },
    ]);
    expect(jsonRows({ samples: [{ a: 1 }] })).toEqual([{ row: 1, value: { a: 1 } }]);
  });

  it.each([[undefined], ['text'], [{ samples: 'x' }], [{}], [{ samples: [], extra: 1 }], [null]])(
    'refuses %p',
    (body) => {
      expect(errorOf(() => jsonRows(body)).code).toBe('VALIDATION_FAILED');
    },
  );
});

describe('checkRow', () => {
  const fields = (v: unknown): string[] => {
    const r = checkRow(v, NOW);
    return 'errors' in r ? r.errors.map((e) => e.field).sort() : [];
  };

  it('accepts a full row and applies the defaults', () => {
    expect(checkRow({ direction: 'usd_to_lbp', rate: 89500.5, usd_volume: 10.25 }, NOW)).toEqual({
      sample: { direction: 'usd_to_lbp', rate: 89500.5, usdVolume: 1025n, createdAt: NOW },
    });
    expect(
      checkRow({ direction: 'lbp_to_usd', rate: 1, created_at: '2026-01-10T13:00:00+02:00' }, NOW),
    ).toEqual({
      sample: {
        direction: 'lbp_to_usd',
        rate: 1,
        usdVolume: 100n,
        createdAt: new Date('2026-01-10T11:00:00Z'),
      },
    });
  });

  it.each([
    [{ direction: 'sideways', rate: 1 }, ['direction']],
    [{ rate: 1 }, ['direction']],
    [{ direction: 'usd_to_lbp' }, ['rate', 'rate', 'rate']],
    [{ direction: 'usd_to_lbp', rate: 0 }, ['rate']],
    [{ direction: 'usd_to_lbp', rate: -3 }, ['rate']],
    [{ direction: 'usd_to_lbp', rate: 1e9 + 1 }, ['rate']],
    [{ direction: 'usd_to_lbp', rate: '89500' }, ['rate', 'rate', 'rate']],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 0.001 }, ['usd_volume']],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 1e-7 }, ['usd_volume']],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 1e12 + 1 }, ['usd_volume']],
    [{ direction: 'usd_to_lbp', rate: 1, usd_volume: 0 }, ['usd_volume']],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2026-01-11' }, ['created_at']],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2026-01-01T24:00' }, ['created_at']],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2026-01-01 00:00:00' }, ['created_at']],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2025-02-29T00:00:00Z' }, ['created_at']],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '2026-01-10T12:00:00.001Z' }, ['created_at']],
    [{ direction: 'usd_to_lbp', rate: 1, created_at: '1969-12-31T23:59:59Z' }, ['created_at']],
    [{ direction: 'usd_to_lbp', rate: 1, user_id: 5 }, ['user_id']],
  ])('%p fails on %p', (row, expected) => {
    expect(fields(row)).toEqual(expected);
  });

  it.each([
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T10:30', '2026-01-01T10:30:00.000Z'],
    ['2026-01-01T10:30:00+02:00', '2026-01-01T08:30:00.000Z'],
  ])('reads created_at %p (no zone = UTC) as %p', (createdAt, iso) => {
    const checked = checkRow({ direction: 'usd_to_lbp', rate: 1, created_at: createdAt }, NOW);
    expect('sample' in checked && checked.sample.createdAt.toISOString()).toBe(iso);
  });

  it('accepts a time exactly now', () => {
    expect(
      'sample' in checkRow({ direction: 'usd_to_lbp', rate: 1, created_at: NOW.toISOString() }, NOW),
    ).toBe(true);
  });

  it.each([[null], [[1]], ['x'], [5]])('refuses a row that is not an object: %p', (row) => {
    expect(fields(row)).toEqual(['row']);
  });
});

describe('importFormatOf', () => {
  it('is csv for text/csv with any parameters, json otherwise', () => {
    expect(importFormatOf('text/csv')).toBe('csv');
    expect(importFormatOf('Text/CSV; charset=utf-8')).toBe('csv');
    expect(importFormatOf('application/json')).toBe('json');
    expect(importFormatOf('text/csvx')).toBe('json');
    expect(importFormatOf(undefined)).toBe('json');
  });
});

describe('AdminRatesService.importSamples', () => {
  const m = {} as EntityManager;
  let recorded: NewSample[];
  let audited: unknown[];
  let sut: AdminRatesService;

  beforeEach(() => {
    recorded = [];
    audited = [];
    const rates = {
      record: jest.fn((input: NewSample) => {
        recorded.push(input);
        const sample = { ...input, id: recorded.length, isOutlier: input.rate > 200000 } as RateSampleEntity;
        return Promise.resolve(sample);
      }),
    } as unknown as RatesService;
    const tx = { run: <T>(fn: (em: EntityManager) => Promise<T>) => fn(m) } as TransactionRunner;
    const audit = {
      record: jest.fn((entry: unknown) => {
        audited.push(entry);
        return Promise.resolve();
      }),
    } as unknown as AuditService;
    const clock: Clock = { now: () => NOW };
    const config = { rates: { outlierPercent: 20 } } as AppConfig;
    const alerts = {
      evaluateAfterCommit: jest.fn().mockResolvedValue(undefined),
    } as unknown as AlertsService;
    sut = new AdminRatesService(
      rates,
      {} as DataQualityRepository,
      tx,
      audit,
      clock,
      config,
      alerts,
      {} as OfficialRateService,
    );
  });

  const actor = { id: 1, userName: 'admin' };

  it('stores valid rows in created_at order (row order on ties), reports the others, audits once', async () => {
    const body = [
      { direction: 'usd_to_lbp', rate: 89000, created_at: '2026-01-10T10:00:00Z' },
      { direction: 'usd_to_lbp', rate: -1 },
      { direction: 'usd_to_lbp', rate: 300000, created_at: '2026-01-10T09:00:00Z' },
      { direction: 'usd_to_lbp', rate: 89100 },
      { direction: 'usd_to_lbp', rate: 89200, created_at: '2026-01-10T09:00:00Z' },
    ];
    const res = await sut.importSamples(actor, { format: 'json', body }, NO_REQUEST);
    expect(recorded.map((r) => r.rate)).toEqual([300000, 89200, 89000, 89100]);
    expect(recorded.every((r) => r.source === 'feed')).toBe(true);
    // ids follow insertion order; `samples` lists them in row order (rows 1, 3, 4, 5)
    expect(res).toEqual({
      imported: 4,
      flagged: 1,
      rejected: [{ row: 2, errors: [{ field: 'rate', message: 'rate must not be less than 0.0001' }] }],
      samples: [3, 1, 4, 2],
    });
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      event: 'ADMIN_RATE_IMPORT',
      success: true,
      metadata: { rejected_rows: [2] },
    });
  });

  it('with no valid row: 400 listing each bad row, nothing stored', async () => {
    const body = 'direction,rate\nsideways,1\nusd_to_lbp,0\n';
    const err = await sut.importSamples(actor, { format: 'csv', body }, NO_REQUEST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details).toEqual([
      { field: 'direction', message: expect.stringMatching(/^row 1: /), value: 1 },
      { field: 'rate', message: 'row 2: rate must not be less than 0.0001', value: 2 },
    ]);
    expect(recorded).toEqual([]);
    expect(audited).toEqual([]);
  });

  it('refuses an empty import and one over 10,000 rows before looking at any row', async () => {
    await expect(sut.importSamples(actor, { format: 'json', body: [] }, NO_REQUEST)).rejects.toMatchObject({
      statusCode: 400,
    });
    const many = Array.from({ length: 10_001 }, () => ({ direction: 'usd_to_lbp', rate: 1 }));
    await expect(sut.importSamples(actor, { format: 'json', body: many }, NO_REQUEST)).rejects.toMatchObject({
      statusCode: 400,
      details: [{ field: 'samples', message: expect.stringContaining('10000') }],
    });
    expect(recorded).toEqual([]);
  });
});
