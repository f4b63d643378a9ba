import { ApiProperty, PickType } from '@nestjs/swagger';
import { IsIn, IsNumber, Max } from 'class-validator';
import { IsPositiveNumber } from '../../common/money-validators';
import { DIRECTIONS, type Direction } from '../../rates/rate-sample.entity';
import { ALERT_CONDITIONS, type AlertCondition } from '../alert.entity';

export const MAX_THRESHOLD = 1e9;

export class CreateAlertDto {
  @ApiProperty({ enum: DIRECTIONS })
  @IsIn(DIRECTIONS)
  direction!: Direction;

  /** `above`: fires when the market rate is at or above the threshold; `below`: at or below. */
  @ApiProperty({ enum: ALERT_CONDITIONS })
  @IsIn(ALERT_CONDITIONS)
  condition!: AlertCondition;

  /** LBP per USD, > 0, at most 1e9. */
  @ApiProperty({ example: 90000 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositiveNumber()
  @Max(MAX_THRESHOLD)
  threshold!: number;
}

export class AlertDto {
  id!: number;
  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;
  @ApiProperty({ enum: ALERT_CONDITIONS })
  condition!: AlertCondition;
  threshold!: number;
  /** false once it has fired (or never fires again). */
  is_active!: boolean;
  /** When it fired, or null. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  triggered_at!: string | null;
  /** The market rate when it fired, or null. */
  @ApiProperty({ type: Number, nullable: true })
  trigger_rate!: number | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

/** An alert as admins see it: with its owner. */
export class AdminAlertDto extends AlertDto {
  user_id!: number;
}

export class CurrentRatesDto {
  /** Market rate now; null without data. */
  @ApiProperty({ type: Number, nullable: true })
  usd_to_lbp!: number | null;
  @ApiProperty({ type: Number, nullable: true })
  lbp_to_usd!: number | null;
}

export class TriggeredAlertDto extends PickType(AlertDto, [
  'id',
  'direction',
  'condition',
  'threshold',
] as const) {
  /** The market rate when the alert fired (its trigger_rate). */
  current_rate!: number;
  @ApiProperty({ format: 'date-time' })
  triggered_at!: string;
}

export class TriggeredAlertsDto {
  current_rates!: CurrentRatesDto;
  /** Your fired alerts, most recently fired first. */
  triggered!: TriggeredAlertDto[];
}

export class AlertDeletedDto {
  /** "Alert deleted" */
  message!: string;
  id!: number;
}
