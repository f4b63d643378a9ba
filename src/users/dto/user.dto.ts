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
}

export class WhoAmIResponseDto extends UserWithBalancesDto {
  /** Same as `id`, for older clients. */
  user_id!: number;
}
