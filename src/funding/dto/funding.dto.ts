import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { CURRENCIES, type Currency, MAX_AMOUNT_MAJOR } from '../../common/money';
import { IsPositiveNumber, IsTwoDecimalNumber } from '../../common/money-validators';
import { PageQueryDto } from '../../common/pagination';
import { FUNDING_STATUSES, type FundingStatus } from '../funding-request.entity';

class FundingAmountDto {
  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  currency!: Currency;

  /** > 0, at most 2 decimals, at most 1e12. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  amount!: number;
}

export class CreateDepositDto extends FundingAmountDto {
  /** How the money was handed over (a transfer's reference, an agent's receipt number). */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'reference must not be blank' })
  reference?: string;
}

export class CreateWithdrawalDto extends FundingAmountDto {
  /** Where to pay it (an account, an agent); kept for the admin who completes it. */
  @IsString()
  @Length(3, 200)
  @Matches(/\S/, { message: 'destination must not be blank' })
  destination!: string;
}

export class FundingDecisionDto {
  /** Why (kept on the request, shown to the user, and in the audit trail). */
  @IsOptional()
  @IsString()
  @Length(1, 500)
  note?: string;
}

export class FundingListQueryDto extends PageQueryDto {
  @ApiProperty({ enum: FUNDING_STATUSES, required: false })
  @IsOptional()
  @IsIn(FUNDING_STATUSES)
  status?: FundingStatus;
}

export class AdminFundingQueryDto extends FundingListQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  user_id?: number;
}

class FundingRequestDto {
  id!: number;
  user_id!: number;
  @ApiProperty({ enum: CURRENCIES })
  currency!: Currency;
  amount!: number;
  @ApiProperty({ enum: FUNDING_STATUSES })
  status!: FundingStatus;
  /** The deciding admin's note, or null. */
  @ApiProperty({ type: String, nullable: true })
  note!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  decided_at!: string | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class DepositDto extends FundingRequestDto {
  @ApiProperty({ type: String, nullable: true })
  reference!: string | null;
}

export class WithdrawalDto extends FundingRequestDto {
  destination!: string;
}
