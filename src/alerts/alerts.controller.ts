import { Body, Controller, Delete, Get, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { Paged, PageQueryDto, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import { toAlertDto, toTriggeredAlertDto } from './alert.mapper';
import { AlertsService } from './alerts.service';
import { type AlertDeletedDto, AlertDto, CreateAlertDto, type TriggeredAlertsDto } from './dto/alert.dto';

const actorOf = (p: Principal) => ({ id: p.id, userName: p.userName });

@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /**
   * A one-shot alert: when the market rate of `direction` is at or above (`above`) or at or below
   * (`below`) `threshold`, it fires once, records `triggered_at` and `trigger_rate`, turns inactive
   * and sends an ALERT_TRIGGERED notification. Checked right after each rate-moving sample and by a
   * scheduled sweep.
   */
  @Post()
  @Auth()
  @Audit(AuditEvent.ALERT_CREATE)
  async create(
    @CurrentUser() user: Principal,
    @Body() dto: CreateAlertDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<AlertDto> {
    return toAlertDto(await this.alerts.create(actorOf(user), dto, meta));
  }

  /** Your alerts (active and fired), newest first; total in X-Total-Count. */
  @Get()
  @Auth()
  @ApiPaged(AlertDto)
  async list(@CurrentUser() user: Principal, @Query() q: PageQueryDto): Promise<Paged<AlertDto>> {
    const { rows, total } = await this.alerts.list(user.id, toPage(q));
    return new Paged(rows.map(toAlertDto), total);
  }

  /**
   * The market rates now and your fired alerts, most recently fired first (`limit`/`offset` page
   * them); `current_rate` is the market rate when the alert fired.
   */
  @Get('triggered')
  @Auth()
  async triggered(@CurrentUser() user: Principal, @Query() q: PageQueryDto): Promise<TriggeredAlertsDto> {
    const { rates, rows } = await this.alerts.triggered(user.id, toPage(q));
    return { current_rates: rates, triggered: rows.map(toTriggeredAlertDto) };
  }

  /** Deletes one of your alerts (another user's → 404). */
  @Delete(':id')
  @Auth()
  @Audit(AuditEvent.ALERT_DELETE)
  @ApiNotFoundResponse({ description: 'ALERT_NOT_FOUND (also for another user’s alert)' })
  async delete(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<AlertDeletedDto> {
    await this.alerts.delete(actorOf(user), id, meta);
    return { message: 'Alert deleted', id };
  }
}
