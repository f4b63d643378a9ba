import { Controller, Delete, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { Paged, PageQueryDto, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import { toAdminAlertDto } from './alert.mapper';
import { AlertsService } from './alerts.service';
import { AdminAlertDto, type AlertDeletedDto } from './dto/alert.dto';

@ApiTags('admin')
@Controller('admin')
export class AdminAlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /** A user's alerts, newest first; total in X-Total-Count. Unknown user → 404. */
  @Get('users/:id/alerts')
  @Auth({ roles: ['ADMIN'] })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND' })
  @ApiPaged(AdminAlertDto)
  async list(@IdParam() id: number, @Query() q: PageQueryDto): Promise<Paged<AdminAlertDto>> {
    const { rows, total } = await this.alerts.listForUser(id, toPage(q));
    return new Paged(rows.map(toAdminAlertDto), total);
  }

  /** Deletes any user's alert. */
  @Delete('alerts/:id')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_ALERT_DELETE)
  @ApiNotFoundResponse({ description: 'ALERT_NOT_FOUND' })
  async delete(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<AlertDeletedDto> {
    await this.alerts.adminDelete({ id: admin.id, userName: admin.userName }, id, meta);
    return { message: 'Alert deleted', id };
  }
}
