import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNumber, IsOptional, Max } from 'class-validator';
import { DateRangeQueryDto } from '../../common/date-range.dto';
import { MAX_AMOUNT_MAJOR } from '../../common/money';
import { IsTwoDecimalNumber, IsPositiveNumber } from '../../common/money-validators';
import { PageQueryDto } from '../../common/pagination';
import { DIRECTIONS, type Direction } from '../../rates/rate-sample.entity';

export class CreateTransactionDto {
  /** USD amount, > 0, at most 2 decimals, at most 1e12. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  usd_amount!: number;

  /** LBP amount, > 0, at most 2 decimals, at most 1e12. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  lbp_amount!: number;

  /** true: you sold `usd_amount` USD for `lbp_amount` LBP (elsewhere); false: the reverse. */
  @IsBoolean()
  usd_to_lbp!: boolean;
}

export class TransactionDto {
  id!: number;
  usd_amount!: number;
  lbp_amount!: number;
  usd_to_lbp!: boolean;
  /** LBP per USD. */
  rate!: number;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class TransactionCreatedDto extends TransactionDto {
  /** "Transaction added successfully" */
  message!: string;
}

/** Filters of the list and the export. */
export class TransactionFilterDto extends DateRangeQueryDto {
  @ApiProperty({ enum: DIRECTIONS, required: false })
  @IsOptional()
  @IsIn(DIRECTIONS)
  direction?: Direction;
}

export class TransactionQueryDto extends IntersectionType(TransactionFilterDto, PageQueryDto) {}
