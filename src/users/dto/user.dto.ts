import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role, STATUSES, type UserStatus } from '../user.entity';

/** A user as the API shows it: never a hash. */
export class UserResponseDto {
  id!: number;
  user_name!: string;
  @ApiProperty({ enum: ROLES })
  role!: Role;
  @ApiProperty({ enum: STATUSES })
  status!: UserStatus;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class UserWithBalancesDto extends UserResponseDto {
  /** Available USD. */
  usd_balance!: number;
  /** Available LBP. */
  lbp_balance!: number;
  /**
   * Whether the account's rate samples count toward the reference rate now (trusted by an admin, or
   * funded and aged: RATE_CONTRIBUTOR_MIN_DEPOSIT_USD, RATE_CONTRIBUTOR_MIN_AGE_HOURS).
   */
  established!: boolean;
  /** Since when it is established (null when it is not). */
  @ApiProperty({ format: 'date-time', type: String, nullable: true })
  established_at!: string | null;
}

export class WhoAmIResponseDto extends UserWithBalancesDto {
  /** Same as `id`, for older clients. */
  user_id!: number;
}
