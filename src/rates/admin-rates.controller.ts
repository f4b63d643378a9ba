import { Body, Controller, Get, Headers, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdParam } from '../common/pipes/id-param';
import { AdminRatesService } from './admin-rates.service';
import { CSV_COLUMNS, importFormatOf } from './sample-import';
import {
  CreateRateSampleDto,
  type DataQualityDto,
  DataQualityQueryDto,
  type ImportResultDto,
  MAX_IMPORT_ROWS,
  OverrideSampleDto,
  type RateSampleDto,
  SetOfficialRateDto,
} from './dto/admin-rates.dto';
import type { OfficialRateEntryDto } from './dto/market.dto';

const actorOf = (p: Principal) => ({ id: p.id, userName: p.userName });

const SAMPLE_ROW_SCHEMA = { $ref: getSchemaPath(CreateRateSampleDto) };

@ApiTags('admin')
@ApiExtraModels(CreateRateSampleDto)
@Controller()
export class AdminRatesController {
  constructor(private readonly adminRates: AdminRatesService) {}

  /**
   * Set the official rate (e.g. the central bank's): a new entry of its series, in force from
   * `effective_at` (default now; a past time records history, a future one schedules it). Shown by
   * GET /exchangeRate and GET /exchangeRate/official with the street reference's gap to it; never a
   * contributor to the reference, never used for quotes; it values LBP for limits only while no
   * reference is published. Audited.
   */
  @Put('admin/rates/official')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_OFFICIAL_RATE_SET)
  setOfficial(
    @CurrentUser() admin: Principal,
    @Body() dto: SetOfficialRateDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OfficialRateEntryDto> {
    return this.adminRates.setOfficial(actorOf(admin), dto, meta);
  }

  /**
   * Add one manual rate sample (source `manual`). It is judged like any sample: an outlier is still
   * stored, marked `is_outlier` with `anomaly_reason` and `anomaly_score`, and left out of market figures.
   */
  @Post('admin/rates')
  @Auth({ roles: ['ADMIN'] })
  @Audit(AuditEvent.ADMIN_RATE_CREATE)
  create(
    @CurrentUser() admin: Principal,
    @Body() dto: CreateRateSampleDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<RateSampleDto> {
    return this.adminRates.create(actorOf(admin), dto, meta);
  }

  /**
   * Import many samples (source `feed`): a JSON array, `{"samples": [...]}`, or CSV
   * (`Content-Type: text/csv`, header `direction,rate,usd_volume,created_at`). Each row follows the
   * rules of POST /admin/rates. Valid rows are stored in one transaction, in created_at order (each
   * judged against those before it); invalid rows are listed in `rejected` by their 1-based position
   * (the CSV header is not counted). No valid row → 400 with the rejected rows in `details`
   * (`value` = row). At most 10,000 rows per request.
   */
  @Post('admin/rates/import')
  @Auth({ roles: ['ADMIN'] })
  @Audit(AuditEvent.ADMIN_RATE_IMPORT)
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({
    description: `At most ${MAX_IMPORT_ROWS} rows. CSV header: ${CSV_COLUMNS.join(',')} (usd_volume and created_at may be left out or empty).`,
    schema: {
      oneOf: [
        { type: 'array', items: SAMPLE_ROW_SCHEMA },
        {
          type: 'object',
          required: ['samples'],
          properties: { samples: { type: 'array', items: SAMPLE_ROW_SCHEMA } },
        },
        {
          type: 'string',
          example: 'direction,rate,usd_volume,created_at\nusd_to_lbp,89500,100,2026-01-05T10:00:00Z\n',
        },
      ],
    },
  })
  import(
    @CurrentUser() admin: Principal,
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @ReqMeta() meta: RequestMeta,
  ): Promise<ImportResultDto> {
    return this.adminRates.importSamples(actorOf(admin), { format: importFormatOf(contentType), body }, meta);
  }

  /** Set or clear a sample's outlier mark; the hourly rollup of its hour follows at once. */
  @Patch('admin/rates/:id')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_RATE_OVERRIDE)
  @ApiNotFoundResponse({ description: 'RATE_SAMPLE_NOT_FOUND' })
  override(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: OverrideSampleDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<RateSampleDto> {
    return this.adminRates.override(actorOf(admin), id, dto, meta);
  }

  /**
   * Sample and outlier counts over `from`/`to` (either may be omitted: no bound), optionally for one
   * `direction` and `source`, and the flagged samples newest first (paged by `limit`/`offset`; their
   * total is `flagged_count`). `baseline_avg_rate` is the trailing-window median each was judged against.
   */
  @Get('admin/data-quality')
  @Auth({ roles: ['ADMIN'] })
  dataQuality(@Query() q: DataQualityQueryDto): Promise<DataQualityDto> {
    return this.adminRates.dataQuality(q);
  }
}
