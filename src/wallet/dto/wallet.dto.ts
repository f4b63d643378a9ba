import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNumber, IsString, Length, Max, Min, NotEquals } from 'class-validator';
import { CURRENCIES, type Currency, MAX_AMOUNT_MAJOR } from '../../common/money';
import { IsTwoDecimalNumber } from '../../common/money-validators';

export class WalletDto {
  /** Available USD (what can be spent). */
  usd_balance!: number;
  lbp_balance!: number;
  /** USD escrowed in open offers. */
  usd_held!: number;
  lbp_held!: number;
}

export class LedgerEntryDto {
  id!: number;
  @ApiProperty({ enum: CURRENCIES })
  currency!: Currency;
  /** Signed, in major units. */
  amount!: number;
  /** The balance of that account after this entry. */
  balance_after!: number | null;
  /** `user` (available) or `user_held` (escrow). */
  account!: string;
  /** STARTING_BALANCE, TRANSACTION, ADMIN_ADJUSTMENT, ... */
  kind!: string;
  ref_type!: string | null;
  ref_id!: number | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class AdjustWalletDto {
  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  currency!: Currency;

  /** Signed amount in major units (at most 2 decimals, not 0); a debit never takes the balance below zero. */
  @ApiProperty({ type: Number, minimum: -MAX_AMOUNT_MAJOR, maximum: MAX_AMOUNT_MAJOR, example: 100 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @Min(-MAX_AMOUNT_MAJOR)
  @Max(MAX_AMOUNT_MAJOR)
  @NotEquals(0)
  amount!: number;

  /** Why (kept in the audit trail). */
  @IsString()
  @Length(3, 500)
  reason!: string;
}

export class WalletAdjustedDto extends WalletDto {
  message!: string;
  user_id!: number;
  ledger_entry_id!: number;
}

export class LedgerMismatchDto {
  user_id!: number | null;
  /**
   * currency_sum_zero, user_non_negative, user_equals_ledger, user_held_non_negative,
   * user_held_equals_ledger, or held_equals_open_offers (escrow = remaining give side of open offers).
   */
  check!: string;
  currency?: string;
  expected?: string;
  actual?: string;
}

export class LedgerVerifyDto {
  ok!: boolean;
  /** Sum of every entry per currency (must be "0.00"). */
  currencies!: Record<string, string>;
  mismatches!: LedgerMismatchDto[];
}
