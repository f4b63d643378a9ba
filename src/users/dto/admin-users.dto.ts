import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { ROLES, type Role, STATUSES, type UserStatus } from '../user.entity';

export class AdminUserQueryDto extends PageQueryDto {
  @ApiProperty({ enum: STATUSES, required: false })
  @IsOptional()
  @IsIn(STATUSES)
  status?: UserStatus;

  @ApiProperty({ enum: ROLES, required: false })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  /** Part of the user name or e-mail (case-insensitive). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class SetStatusDto {
  @ApiProperty({ enum: STATUSES })
  @IsIn(STATUSES)
  status!: UserStatus;
}

export class SetRoleDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class StatusChangedDto {
  message!: string;
  id!: number;
  @ApiProperty({ enum: STATUSES })
  status!: UserStatus;
}

export class RoleChangedDto {
  message!: string;
  id!: number;
  @ApiProperty({ enum: ROLES })
  role!: Role;
}

export class SetTrustDto {
  /**
   * true: the account is established at once (its samples count toward the reference rate); false:
   * distrusted, never established whatever it deposited (its samples drop out of the reference at once).
   */
  @IsBoolean()
  trusted!: boolean;

  /** Why (kept in the audit log). */
  @IsOptional()
  @IsString()
  @MaxLength(300)
  note?: string;
}

export class TrustChangedDto {
  message!: string;
  id!: number;
  trusted!: boolean;
  established!: boolean;
  @ApiProperty({ format: 'date-time', type: String, nullable: true })
  established_at!: string | null;
}
