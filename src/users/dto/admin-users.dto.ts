import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
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
