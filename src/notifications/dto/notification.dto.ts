import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';

export class NotificationQueryDto extends PageQueryDto {
  /** `true`: only unread ones (default `false`). */
  @ApiProperty({ enum: ['true', 'false'], required: false })
  @IsOptional()
  @IsIn(['true', 'false'])
  unread_only?: string;
}

export class NotificationDto {
  id!: number;
  /** ALERT_TRIGGERED, WATCHLIST_CROSSING, OFFER_ACCEPTED, ... */
  event_type!: string;
  title!: string;
  message!: string;
  ref_type!: string | null;
  ref_id!: number | null;
  is_read!: boolean;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class UnreadCountDto {
  count!: number;
}

export class ReadAllDto {
  message!: string;
  /** How many were unread. */
  updated!: number;
}

export class NotificationMessageDto {
  message!: string;
}
