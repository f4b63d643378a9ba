import { ApiProperty } from '@nestjs/swagger';
import {
  IsIn,
  IsNumber,
  Max,
  registerDecorator,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';
import { IsPositiveNumber } from '../../common/money-validators';
import { DIRECTIONS, type Direction } from '../../rates/rate-sample.entity';
import { CONDITIONS, type Condition, ITEM_TYPES, type ItemType } from '../watchlist-item.entity';

/** Highest accepted threshold (LBP per USD). */
export const MAX_THRESHOLD = 1e12;

const given = (v: unknown): boolean => v !== undefined && v !== null;

/** Refuses the field on direction items (their condition and threshold make no sense). */
function AbsentForDirectionItems(): PropertyDecorator {
  return (target: object, propertyName: string | symbol): void => {
    registerDecorator({
      name: 'absentForDirectionItems',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args: ValidationArguments): boolean =>
          (args.object as { item_type?: unknown }).item_type !== 'direction' || !given(value),
        defaultMessage: (args: ValidationArguments): string =>
          `${args.property} must be omitted for direction items`,
      },
    });
  };
}

/** Validated when the item is a threshold item (then required) or when sent at all (then refused on direction items). */
const onlyForThresholdItems = ValidateIf(
  (o: { item_type?: unknown; condition?: unknown; threshold?: unknown }, v: unknown) =>
    o.item_type === 'threshold' || given(v),
);

export class CreateWatchlistItemDto {
  /** `direction`: watch a direction's 24 h move; `threshold`: watch the market crossing a rate. */
  @ApiProperty({ enum: ITEM_TYPES })
  @IsIn(ITEM_TYPES)
  item_type!: ItemType;

  @ApiProperty({ enum: DIRECTIONS })
  @IsIn(DIRECTIONS)
  direction!: Direction;

  /** Required for threshold items, refused for direction items. */
  @ApiProperty({ enum: CONDITIONS, required: false })
  @onlyForThresholdItems
  @AbsentForDirectionItems()
  @IsIn(CONDITIONS)
  condition?: Condition;

  /** LBP per USD, > 0. Required for threshold items, refused for direction items. */
  @ApiProperty({ required: false, example: 90000 })
  @onlyForThresholdItems
  @AbsentForDirectionItems()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositiveNumber()
  @Max(MAX_THRESHOLD)
  threshold?: number;
}

export class WatchlistItemDto {
  id!: number;
  @ApiProperty({ enum: ITEM_TYPES })
  item_type!: ItemType;
  @ApiProperty({ enum: DIRECTIONS })
  direction!: Direction;
  /** null for direction items. */
  @ApiProperty({ enum: CONDITIONS, nullable: true })
  condition!: Condition | null;
  /** null for direction items. */
  @ApiProperty({ type: Number, nullable: true })
  threshold!: number | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class WatchlistItemViewDto extends WatchlistItemDto {
  /** The market rate of the item's direction now (as GET /exchangeRate); null without data. */
  @ApiProperty({ type: Number, nullable: true })
  current_rate!: number | null;
  /** Percent change of that market rate against 24 h ago; null when either is unknown. */
  @ApiProperty({ type: Number, nullable: true })
  change_24h_percent!: number | null;
  /** When the sweep last notified about this item; null before any. */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_notified_at!: string | null;
}

export class WatchlistMessageDto {
  message!: string;
}
