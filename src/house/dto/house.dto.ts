import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, Max, Min } from 'class-validator';
import { CURRENCIES, type Currency, MAX_AMOUNT_MAJOR } from '../../common/money';
import { IsPositiveNumber, IsTwoDecimalNumber } from '../../common/money-validators';

export class CreateQuoteDto {
  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  from_currency!: Currency;

  /** The other currency. */
  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  to_currency!: Currency;

  /** What you give, > 0, at most 2 decimals, at most 1e12. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  from_amount!: number;
}

export class QuoteDto {
  id!: number;
  @ApiProperty({ enum: CURRENCIES })
  from_currency!: Currency;
  @ApiProperty({ enum: CURRENCIES })
  to_currency!: Currency;
  from_amount!: number;
  /** What the house pays, rounded down to the cent. */
  to_amount!: number;
  /**
   * The applied rate, LBP per USD: the bid (the guard window's lowest mid minus the spread) when you
   * give USD, the ask (its highest mid plus the spread) when you give LBP.
   */
  rate!: number;
  /** The published mid now. */
  reference_rate!: number;
  spread_percent!: number;
  @ApiProperty({ format: 'date-time' })
  expires_at!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class ConvertDto {
  /** A quote of yours from POST /quotes, unused and unexpired. */
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  quote_id!: number;
}

export class ConversionDto {
  id!: number;
  quote_id!: number;
  @ApiProperty({ enum: CURRENCIES })
  from_currency!: Currency;
  from_amount!: number;
  @ApiProperty({ enum: CURRENCIES })
  to_currency!: Currency;
  to_amount!: number;
  rate!: number;
  reference_rate!: number;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class ConvertedDto extends ConversionDto {
  /** Your available balances after the conversion. */
  usd_balance!: number;
  lbp_balance!: number;
}

export class HouseNetPositionDto {
  /** What the house holds (negative: owes), in major units. */
  usd!: number;
  lbp!: number;
}

export class HouseGuardDto {
  /** QUOTE_GUARD_MINUTES. */
  window_minutes!: number;
  /** The lowest published mid of the window (the house's bid is taken from it), or null. */
  @ApiProperty({ type: Number, nullable: true })
  low_mid!: number | null;
  /** The highest published mid of the window (the house's ask is taken from it), or null. */
  @ApiProperty({ type: Number, nullable: true })
  high_mid!: number | null;
  /** (high_mid - low_mid) / low_mid, in percent. */
  @ApiProperty({ type: Number, nullable: true })
  move_percent!: number | null;
  /** The house quotes nothing now. */
  halted!: boolean;
  /** Why: too_few_contributors, stale or volatile (null when not halted). */
  @ApiProperty({ type: String, nullable: true, enum: ['too_few_contributors', 'stale', 'volatile'] })
  reason!: string | null;
}

export class HouseStatusDto {
  /** The reference mid, or null when none is published. */
  @ApiProperty({ type: Number, nullable: true })
  reference_rate!: number | null;
  @ApiProperty({ type: Number, nullable: true })
  bid!: number | null;
  @ApiProperty({ type: Number, nullable: true })
  ask!: number | null;
  spread_percent!: number;
  net_position!: HouseNetPositionDto;
  /** HOUSE_MAX_NET_USD. */
  limit_usd!: number;
  /** Conversions in the last 24 hours. */
  conversions_24h!: number;
  /** The guard the house quotes from. */
  guard!: HouseGuardDto;
}
