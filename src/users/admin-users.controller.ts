import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { Paged, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import {
  AdminUserQueryDto,
  type RoleChangedDto,
  SetRoleDto,
  SetStatusDto,
  SetTrustDto,
  type StatusChangedDto,
  type TrustChangedDto,
} from './dto/admin-users.dto';
import { type PreferencesDto, type PreferencesUpdatedDto, UpdatePreferencesDto } from './dto/preferences.dto';
import { UserWithBalancesDto } from './dto/user.dto';
import { toPreferences, toUserWithBalances } from './user.mapper';
import { UsersService } from './users.service';

@ApiTags('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  /** All users, newest first; filters `status`, `role`, `q`; total in X-Total-Count. */
  @Get()
  @Auth({ roles: ['ADMIN'] })
  @ApiPaged(UserWithBalancesDto)
  async list(@Query() q: AdminUserQueryDto): Promise<Paged<UserWithBalancesDto>> {
    const { rows, total } = await this.users.list({ status: q.status, role: q.role, q: q.q }, toPage(q));
    return new Paged(
      rows.map((r) => toUserWithBalances(r.user, r.balances, r.establishment)),
      total,
    );
  }

  /** Suspend, ban or reactivate a user; a non-active user's sessions are revoked at once. Not on yourself. */
  @Put(':id/status')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_USER_STATUS_CHANGE)
  async setStatus(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: SetStatusDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<StatusChangedDto> {
    const user = await this.users.setStatus(admin, id, dto.status, meta);
    return { message: `User status set to ${user.status}`, id: user.id, status: user.status };
  }

  /** Promote or demote a user. Not on yourself; the last admin cannot be demoted (422 LAST_ADMIN). */
  @Put(':id/role')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_USER_ROLE_CHANGE)
  async setRole(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: SetRoleDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<RoleChangedDto> {
    const user = await this.users.setRole(admin, id, dto.role, meta);
    return { message: `User role set to ${user.role}`, id: user.id, role: user.role };
  }

  /**
   * Trust (`true`: established at once, its samples count toward the reference rate) or distrust
   * (`false`: never established, whatever it deposited; its samples leave the reference at once) an
   * account as a rate contributor. Not on yourself. Audited.
   */
  @Put(':id/trust')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_USER_TRUST_CHANGE)
  async setTrust(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: SetTrustDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<TrustChangedDto> {
    const { user, establishment } = await this.users.setTrust(admin, id, dto.trusted, dto.note ?? null, meta);
    return {
      message: dto.trusted ? 'User trusted as a rate contributor' : 'User distrusted as a rate contributor',
      id: user.id,
      trusted: user.trusted === true,
      established: establishment.established,
      established_at: establishment.establishedAt?.toISOString() ?? null,
    };
  }

  @Get(':id/preferences')
  @Auth({ roles: ['ADMIN'] })
  async getPreferences(@IdParam() id: number): Promise<PreferencesDto> {
    return toPreferences(await this.users.getPreferences(id));
  }

  @Put(':id/preferences')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_PREFERENCES_UPDATE)
  async updatePreferences(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: UpdatePreferencesDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<PreferencesUpdatedDto> {
    const saved = await this.users.updatePreferences(admin, id, dto, meta);
    return { message: 'Preferences updated', ...toPreferences(saved) };
  }
}
