import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { DateRangeQueryDto } from '../../common/date-range.dto';
import { CURRENCIES, type Currency, MAX_AMOUNT_MAJOR } from '../../common/money';
import { IsTwoDecimalNumber, IsPositiveNumber } from '../../common/money-validators';
import { PageQueryDto } from '../../common/pagination';
import { WalletDto } from '../../wallet/dto/wallet.dto';
import { OFFER_STATUSES, type OfferStatus } from '../offer.entity';

/** Longest life of an offer, in hours (30 days). */
export const MAX_OFFER_HOURS = 720;

export class CreateOfferDto {
  /** The currency you give; its amount moves into escrow until the offer is taken, cancelled or expires. */
  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  give_currency!: Currency;

  /** > 0, at most 2 decimals, at most 1e12. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  give_amount!: number;

  /** The other currency (the same one twice is 400). */
  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  want_currency!: Currency;

  /** > 0, at most 2 decimals, at most 1e12. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  want_amount!: number;

  /**
   * Allows partial takes of at least this much (give currency; at most `give_amount`). Omitted: the
   * offer can only be taken whole.
   */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  min_fill_amount?: number;

  /** Expires (and the escrow goes back) after this many hours, 1–720. Omitted: open until taken or cancelled. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_OFFER_HOURS)
  expires_in_hours?: number;
}

export class AcceptOfferDto {
  /**
   * How much of the give side to take (give currency). Omitted: the whole remainder. A partial take
   * must be at least the offer's `min_fill_amount`.
   */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsTwoDecimalNumber()
  @IsPositiveNumber()
  @Max(MAX_AMOUNT_MAJOR)
  amount?: number;
}

export const OFFER_SORTS = ['created_at', 'rate'] as const;
export type OfferSort = (typeof OFFER_SORTS)[number];

export class OfferQueryDto extends PageQueryDto {
  /** `true`: your own open offers too (default `false`: only other people's). */
  @ApiProperty({ enum: ['true', 'false'], required: false })
  @IsOptional()
  @IsIn(['true', 'false'])
  include_mine?: string;

  /** Only offers giving this currency. */
  @ApiProperty({ enum: CURRENCIES, required: false })
  @IsOptional()
  @IsIn(CURRENCIES)
  give_currency?: Currency;

  /** `created_at` (default) or `rate`. */
  @ApiProperty({ enum: OFFER_SORTS, required: false })
  @IsOptional()
  @IsIn(OFFER_SORTS)
  sort?: OfferSort;

  /** Default `desc` for `created_at` (newest first) and `asc` for `rate` (lowest rate first). */
  @ApiProperty({ enum: ['asc', 'desc'], required: false })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
}

export class MyOfferQueryDto extends PageQueryDto {
  /** Only offers in this status. */
  @ApiProperty({ enum: OFFER_STATUSES, required: false })
  @IsOptional()
  @IsIn(OFFER_STATUSES)
  status?: OfferStatus;
}

export class TradeQueryDto extends IntersectionType(PageQueryDto, DateRangeQueryDto) {
  /** Only trades of this offer. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  offer_id?: number;
}

export class OfferDto {
  id!: number;
  creator_user_id!: number;
  @ApiProperty({ enum: CURRENCIES })
  give_currency!: Currency;
  give_amount!: number;
  @ApiProperty({ enum: CURRENCIES })
  want_currency!: Currency;
  want_amount!: number;
  /** Give side still available to take. */
  remaining_give_amount!: number;
  /** Want side the remainder costs (a take pays its share of it). */
  remaining_want_amount!: number;
  /** LBP per USD. */
  rate!: number;
  /** Smallest partial take; null: whole remainder only. */
  @ApiProperty({ type: Number, nullable: true })
  min_fill_amount!: number | null;
  /** Which side of the market the offer is: `usd_to_lbp` when it gives USD. */
  @ApiProperty({ enum: ['usd_to_lbp', 'lbp_to_usd'] })
  direction!: 'usd_to_lbp' | 'lbp_to_usd';
  @ApiProperty({ enum: OFFER_STATUSES })
  status!: OfferStatus;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;
}

/** An offer as its creator (or an admin) sees it. */
export class OwnOfferDto extends OfferDto {
  /** Give side taken so far. */
  filled_give_amount!: number;
  /** Want side received so far. */
  received_want_amount!: number;
  /** Escrow given back on cancel or expiry. */
  refunded_amount!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  closed_at!: string | null;
}

/** The new offer plus your balances after the escrow moved. */
export class OfferCreatedDto extends IntersectionType(OwnOfferDto, WalletDto) {}

export class OfferCancelledDto {
  /** "Offer cancelled" */
  message!: string;
  id!: number;
  /** Escrow given back (give currency). */
  refunded_amount!: number;
  @ApiProperty({ enum: CURRENCIES })
  currency!: Currency;
  @ApiProperty({ enum: OFFER_STATUSES })
  status!: OfferStatus;
}

export class TradeDto {
  id!: number;
  offer_id!: number;
  /** Receives USD. */
  buyer_user_id!: number;
  /** Receives LBP. */
  seller_user_id!: number;
  maker_user_id!: number;
  taker_user_id!: number;
  usd_amount!: number;
  lbp_amount!: number;
  /** LBP per USD of this fill. */
  rate!: number;
  /** Your side: `buyer` (you received USD) or `seller`. */
  @ApiProperty({ enum: ['buyer', 'seller'] })
  side!: 'buyer' | 'seller';
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class OfferAcceptedDto extends WalletDto {
  /** "Offer accepted" */
  message!: string;
  trade_id!: number;
  trade!: TradeDto;
  /** The offer after this take. */
  offer!: OfferDto;
}
