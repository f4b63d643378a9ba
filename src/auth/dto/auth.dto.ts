import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export class RegisterDto {
  /** 3–30 characters of letters, digits, `_`, `.` and `-`. */
  @IsString()
  @Length(3, 30)
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'user_name may only contain letters, digits, _ . and -' })
  user_name!: string;

  /** 8–128 characters. */
  @IsString()
  @Length(8, 128)
  password!: string;

  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}

export class LoginDto {
  @IsString()
  @Length(1, 30)
  user_name!: string;

  @IsString()
  @Length(1, 128)
  password!: string;
}

export class FreshDto {
  @IsString()
  @Length(1, 128)
  password!: string;
}

export class ChangePasswordDto {
  @IsString()
  @Length(1, 128)
  current_password!: string;

  /** 8–128 characters, different from the current one. */
  @IsString()
  @Length(8, 128)
  new_password!: string;
}

export class TokenPairDto {
  access_token!: string;
  refresh_token!: string;
  /** Always "Bearer". */
  token_type!: string;
  /** Access-token lifetime in seconds. */
  expires_in!: number;
}

export class AccessTokenDto {
  access_token!: string;
  token_type!: string;
  expires_in!: number;
}

export class LegacyTokenDto {
  /** An access token. */
  token!: string;
}

export class MessageDto {
  message!: string;
}
