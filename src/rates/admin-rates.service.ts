import { Inject, Injectable } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { parseRange, readTimestamp } from '../common/dates';
import { NotFoundError, ValidationFailedError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { formatMinor } from '../common/money';
import { toPage } from '../common/pagination';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { OfficialRateEntryDto } from './dto/market.dto';
import { toOfficialEntry } from './official-rate.mapper';
import { OfficialRateService } from './official-rate.service';
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
  type SetOfficialRateDto,
} from './dto/admin-rates.dto';
import type { Direction, RateSampleEntity } from './rate-sample.entity';
import { RatesService } from './rates.service';
import {
  type CheckedSample,
  checkRow,
  csvRows,
  type ImportPayload,
  jsonRows,
  toCheckedSample,
} from './sample-import';
import { toAnomalyDto, toSampleDto } from './sample.mapper';

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
    private readonly alerts: AlertsService,
    private readonly official: OfficialRateService,
  ) {}

  /** PUT /admin/rates/official: validated here (the time), stored and audited by OfficialRateService. */
  async setOfficial(
    actor: AuditActor & { id: number },
    dto: SetOfficialRateDto,
    meta: RequestMeta,
  ): Promise<OfficialRateEntryDto> {
    const now = this.clock.now();
    let effectiveAt = now;
    if (dto.effective_at !== undefined) {
      const read = readTimestamp(dto.effective_at);
      if ('problem' in read)
        throw new ValidationFailedError([{ field: 'effective_at', message: `effective_at ${read.problem}` }]);
      effectiveAt = read.date;
      if (effectiveAt.getTime() > now.getTime() + 366 * 24 * 3_600_000)
        throw new ValidationFailedError([{ field: 'effective_at', message: 'at most a year ahead' }]);
    }
    const saved = await this.official.set(
      actor,
      {
        usdToLbp: dto.usd_to_lbp,
        lbpToUsd: dto.lbp_to_usd ?? dto.usd_to_lbp,
        source: dto.source.trim(),
        effectiveAt,
      },
      meta,
    );
    const inForce = await this.official.current();
    return toOfficialEntry(saved, inForce?.id ?? null);
  }

  /** One manual sample: judged and stored (outliers too, marked) with its audit row, in one transaction. */
  async create(actor: AuditActor, dto: CreateRateSampleDto, meta: RequestMeta): Promise<RateSampleDto> {
    const checked = toCheckedSample(dto, this.clock.now());
    if ('errors' in checked) throw new ValidationFailedError(checked.errors);
    const s = checked.sample;
    const created = await this.tx.run(async (m) => {
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
    await this.alerts.evaluateAfterCommit(s.direction);
    return created;
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
    const result = await this.tx.run(async (m) => {
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
    for (const d of new Set(valid.map((v) => v.sample.direction))) await this.alerts.evaluateAfterCommit(d);
    return result;
  }

  /**
   * Sets or clears a sample's outlier mark; its hour of the rollup is rebuilt in the same transaction.
   * The mark moves the market rate, so after the commit the rate is refreshed and alerts are checked.
   */
  async override(
    actor: AuditActor,
    id: number,
    dto: OverrideSampleDto,
    meta: RequestMeta,
  ): Promise<RateSampleDto> {
    const changed = await this.tx.run(async (m) => {
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
      return after;
    });
    await this.alerts.evaluateAfterCommit(changed.direction);
    return toSampleDto(changed);
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
