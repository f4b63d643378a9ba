import type { PreferencesDto } from './dto/preferences.dto';
import type { UserPreferencesEntity } from './user-preferences.entity';
import type { UserResponseDto, WhoAmIResponseDto } from './dto/user.dto';
import type { UserEntity } from './user.entity';

export function toUserResponse(u: UserEntity): UserResponseDto {
  return {
    id: u.id,
    user_name: u.userName,
    role: u.role,
    status: u.status,
    created_at: u.createdAt.toISOString(),
  };
}

export function toWhoAmI(u: UserEntity): WhoAmIResponseDto {
  return { ...toUserResponse(u), user_id: u.id };
}

export function toPreferences(p: UserPreferencesEntity): PreferencesDto {
  return { default_range_hours: p.defaultRangeHours, default_bucket: p.defaultBucket };
}
