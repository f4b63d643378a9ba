import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { EVENT_FILTER_NAMES } from '../audit-events';
import { DateRangeQueryDto } from '../../common/date-range.dto';
import { PageQueryDto } from '../../common/pagination';

/** The audit-log filters (GET /logs, GET /admin/logs and the CSV export); every filter combines. */
export class LogFilterDto extends DateRangeQueryDto {
  /**
   * One event type, e.g. `LOGIN_FAILURE`; the seed's names are accepted as aliases (`AUTH_LOGIN_FAIL`,
   * `AUTH_LOGIN_SUCCESS`, `AUTH_LOGOUT`, `AUTH_LOGOUT_REFRESH`, `TX_CREATE`, `PREF_UPDATE`,
   * `WATCHLIST_DELETE`). Case does not matter. Any other name is a 400 that lists the valid ones.
   */
  @ApiProperty({ required: false, enum: EVENT_FILTER_NAMES })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toUpperCase() : value,
  )
  @IsIn(EVENT_FILTER_NAMES, { message: `event_type must be one of: ${EVENT_FILTER_NAMES.join(', ')}` })
  event_type?: string;

  /** `true` or `false`. */
  @IsOptional()
  @IsIn(['true', 'false'])
  success?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  actor_user_id?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  target_user_id?: number;

  @IsOptional()
  @IsString()
  @MaxLength(30)
  actor_username?: string;
}

export class LogQueryDto extends IntersectionType(LogFilterDto, PageQueryDto) {}

export class AuditLogDto {
  id!: number;
  created_at!: string;
  event_type!: string;
  action!: string;
  success!: boolean;
  status_code!: number | null;
  message!: string | null;
  http_method!: string | null;
  path!: string | null;
  ip_address!: string | null;
  user_agent!: string | null;
  actor_user_id!: number | null;
  actor_username!: string | null;
  target_user_id!: number | null;
  /** JSON text with secrets removed. */
  metadata_json!: string | null;
}

export class AuditLogPageDto {
  total!: number;
  offset!: number;
  limit!: number;
  logs!: AuditLogDto[];
}
