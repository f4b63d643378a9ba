import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { parseRange } from '../common/dates';
import { type ErrorDetail, NotFoundError, ValidationFailedError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { formatMinor, toMinor } from '../common/money';
import { toPage } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { type DataQualityFilter, DataQualityRepository } from './data-quality.repository';
import {
  CreateRateSampleDto,
  type DataQualityDto,
  type DataQualityQueryDto,
  type ImportRejectedRowDto,
  type ImportResultDto,
  MAX_IMPORT_ROWS,
  type OverrideSampleDto,
  type RateSampleDto,
} from './dto/admin-rates.dto';
import type { Direction, RateSampleEntity } from './rate-sample.entity';
import { RatesService } from './rates.service';
import { toAnomalyDto, toSampleDto } from './sample.mapper';

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
  const createdAt = dto.created_at == null ? now : new Date(dto.created_at);
  if (Number.isNaN(createdAt.getTime()))
    return { errors: [{ field: 'created_at', message: 'created_at is not a real date and time' }] };
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

/** Manual and imported rate samples, admin overrides of outlier marks, and the data-quality report. */
@Injectable()
export class AdminRatesService {
  constructor(
    private readonly rates: RatesService,
    private readonly repo: DataQualityRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One manual sample: judged and stored (outliers too, marked) with its audit row, in one transaction. */
  async create(actor: AuditActor, dto: CreateRateSampleDto, meta: RequestMeta): Promise<RateSampleDto> {
    const checked = toCheckedSample(dto, this.clock.now());
    if ('errors' in checked) throw new ValidationFailedError(checked.errors);
    const s = checked.sample;
    return this.tx.run(async (m) => {
      const sample = await this.rates.record({ ...s, source: 'manual' }, m);
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_RATE_CREATE,
          action: 'add manual rate sample',
          success: true,
          statusCode: 201,
          message: `${s.direction} ${s.rate}${sample.isOutlier ? ' (flagged as outlier)' : ''}`,
          actor,
          metadata: {
            sample_id: sample.id,
            direction: s.direction,
            rate: s.rate,
            usd_volume: formatMinor(s.usdVolume),
            created_at: s.createdAt.toISOString(),
            is_outlier: Boolean(sample.isOutlier),
            anomaly_reason: sample.anomalyReason,
          },
          request: meta,
        },
        m,
      );
      return toSampleDto(sample);
    });
  }

  /**
   * Many samples as source `feed`. Every row is checked; the valid ones are stored in one transaction
   * in created_at order, so each is judged against those before it; the others are reported by row.
   * No valid row at all is a 400 that lists them.
   */
  async importSamples(
    actor: AuditActor,
    payload: ImportPayload,
    meta: RequestMeta,
  ): Promise<ImportResultDto> {
    const raws = payload.format === 'csv' ? csvRows(payload.body) : jsonRows(payload.body);
    if (raws.length === 0)
      throw new ValidationFailedError([{ field: 'samples', message: 'must contain at least one row' }]);
    if (raws.length > MAX_IMPORT_ROWS) {
      throw new ValidationFailedError(
        [{ field: 'samples', message: `has ${raws.length} rows; at most ${MAX_IMPORT_ROWS} per request` }],
        `An import takes at most ${MAX_IMPORT_ROWS} rows; split the file.`,
      );
    }
    const now = this.clock.now();
    const valid: { row: number; sample: CheckedSample }[] = [];
    const rejected: ImportRejectedRowDto[] = [];
    for (const raw of raws) {
      const check = 'errors' in raw ? raw : checkRow(raw.value, now);
      if ('errors' in check) rejected.push({ row: raw.row, errors: check.errors });
      else valid.push({ row: raw.row, sample: check.sample });
    }
    if (valid.length === 0) {
      throw new ValidationFailedError(
        rejected.flatMap((r) =>
          r.errors.map((e) => ({ field: e.field, message: `row ${r.row}: ${e.message}`, value: r.row })),
        ),
        'No row of the import is valid; nothing was stored.',
      );
    }
    const ordered = [...valid].sort(
      (a, b) => a.sample.createdAt.getTime() - b.sample.createdAt.getTime() || a.row - b.row,
    );
    return this.tx.run(async (m) => {
      const stored = new Map<number, RateSampleEntity>();
      for (const v of ordered) stored.set(v.row, await this.rates.record({ ...v.sample, source: 'feed' }, m));
      const samples = valid.flatMap((v) => {
        const s = stored.get(v.row);
        return s ? [s] : [];
      });
      const flagged = samples.filter((s) => s.isOutlier).length;
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_RATE_IMPORT,
          action: 'import rate samples',
          success: true,
          statusCode: 201,
          message: `${samples.length} imported (${flagged} flagged), ${rejected.length} rejected`,
          actor,
          metadata: {
            format: payload.format,
            rows: raws.length,
            imported: samples.length,
            flagged,
            rejected: rejected.length,
            rejected_rows: rejected.slice(0, 100).map((r) => r.row),
            first_created_at: ordered[0].sample.createdAt.toISOString(),
            last_created_at: ordered[ordered.length - 1].sample.createdAt.toISOString(),
            sample_ids: samples.slice(0, 100).map((s) => s.id),
          },
          request: meta,
        },
        m,
      );
      return { imported: samples.length, flagged, rejected, samples: samples.map((s) => s.id) };
    });
  }

  /** Sets or clears a sample's outlier mark; its hour of the rollup is rebuilt in the same transaction. */
  async override(
    actor: AuditActor,
    id: number,
    dto: OverrideSampleDto,
    meta: RequestMeta,
  ): Promise<RateSampleDto> {
    return this.tx.run(async (m) => {
      const before = await this.rates.findSample(id, m);
      if (!before) throw new NotFoundError('Rate sample not found.', 'RATE_SAMPLE_NOT_FOUND');
      const after = await this.rates.setOutlier(before, dto.is_outlier, dto.reason, m);
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_RATE_OVERRIDE,
          action: 'override rate sample outlier mark',
          success: true,
          statusCode: 200,
          message: `sample ${id} is_outlier ${Boolean(before.isOutlier)} -> ${dto.is_outlier}: ${dto.reason}`,
          actor,
          targetUserId: before.userId,
          metadata: {
            sample_id: id,
            reason: dto.reason,
            before: { is_outlier: Boolean(before.isOutlier), anomaly_reason: before.anomalyReason },
            after: { is_outlier: Boolean(after.isOutlier), anomaly_reason: after.anomalyReason },
          },
          request: meta,
        },
        m,
      );
      return toSampleDto(after);
    });
  }

  /** Sample and outlier counts over a range, and the flagged samples newest first. */
  async dataQuality(q: DataQualityQueryDto): Promise<DataQualityDto> {
    const { from, to } = parseRange(q.from, q.to);
    const filter: DataQualityFilter = { from, to, direction: q.direction, source: q.source };
    const counts = await this.repo.countsByDirection(filter);
    const anomalies = await this.repo.anomalies(filter, toPage(q));
    const of = (d: Direction): number => counts.find((c) => c.direction === d)?.total ?? 0;
    return {
      source: q.source ?? 'all',
      direction: q.direction ?? 'all',
      from: from?.toISOString() ?? null,
      to: to?.toISOString() ?? null,
      total_transactions: counts.reduce((a, c) => a + c.total, 0),
      flagged_count: counts.reduce((a, c) => a + c.flagged, 0),
      anomaly_threshold_percent: this.config.rates.outlierPercent,
      counts_by_direction: { usd_to_lbp: of('usd_to_lbp'), lbp_to_usd: of('lbp_to_usd') },
      anomalies: anomalies.map(toAnomalyDto),
    };
  }
}
