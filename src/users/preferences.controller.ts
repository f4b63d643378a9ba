import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { type PreferencesDto, type PreferencesUpdatedDto, UpdatePreferencesDto } from './dto/preferences.dto';
import { toPreferences } from './user.mapper';
import { UsersService } from './users.service';

@ApiTags('preferences')
@Controller('preferences')
export class PreferencesController {
  constructor(private readonly users: UsersService) {}

  /** Your analytics defaults; created with the defaults on first read. */
  @Get()
  @Auth()
  async get(@CurrentUser() user: Principal): Promise<PreferencesDto> {
    return toPreferences(await this.users.getPreferences(user.id));
  }

  @Put()
  @Auth()
  @Audit(AuditEvent.PREFERENCES_UPDATE)
  async update(
    @CurrentUser() user: Principal,
    @Body() dto: UpdatePreferencesDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<PreferencesUpdatedDto> {
    const saved = await this.users.updatePreferences(user, user.id, dto, meta);
    return { message: 'Preferences updated', ...toPreferences(saved) };
  }
}
