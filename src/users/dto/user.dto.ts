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

export class WhoAmIResponseDto extends UserResponseDto {
  /** Same as `id`, for older clients. */
  user_id!: number;
}
