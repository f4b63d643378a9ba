import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import type { UserResponseDto, WhoAmIResponseDto } from '../users/dto/user.dto';
import { toUserResponse, toWhoAmI } from '../users/user.mapper';
import { UsersService } from '../users/users.service';
import { Auth, CurrentUser, Public } from './auth.decorators';
import { AuthService } from './auth.service';
import {
  type AccessTokenDto,
  ChangePasswordDto,
  FreshDto,
  type LegacyTokenDto,
  LoginDto,
  type MessageDto,
  RegisterDto,
  type TokenPairDto,
} from './dto/auth.dto';
import type { Principal } from './principal';

@ApiTags('accounts')
@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  /** Create an account. Role and status cannot be chosen (unknown fields are refused). */
  @Post('user')
  @Public()
  @RateLimit('register')
  @Audit(AuditEvent.USER_REGISTER)
  @ApiConflictResponse({ description: 'USER_NAME_TAKEN' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async register(@Body() dto: RegisterDto, @ReqMeta() meta: RequestMeta): Promise<UserResponseDto> {
    return toUserResponse(await this.auth.register(dto, meta));
  }

  /** Log in: a fresh access token and a refresh token. Wrong name or password answer alike (401). */
  @Post('login')
  @HttpCode(200)
  @Public()
  @RateLimit('login')
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS: wrong user name or password' })
  @Audit(AuditEvent.LOGIN_FAILURE) // refusals only; the service writes LOGIN_SUCCESS with the session
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async login(@Body() dto: LoginDto, @ReqMeta() meta: RequestMeta): Promise<TokenPairDto> {
    const pair = await this.auth.login(dto, meta);
    return {
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      token_type: 'Bearer',
      expires_in: pair.expiresIn,
    };
  }

  /** Older clients' login: returns one access token. */
  @Post('authentication')
  @HttpCode(200)
  @Public()
  @RateLimit('login')
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS: wrong user name or password' })
  @Audit(AuditEvent.LOGIN_FAILURE)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async authentication(@Body() dto: LoginDto, @ReqMeta() meta: RequestMeta): Promise<LegacyTokenDto> {
    return { token: await this.auth.legacyAuthenticate(dto, meta) };
  }

  /**
   * Rotate: send the refresh token as Bearer, get a new pair. The returned access token is not fresh.
   * Presenting a spent refresh token ends the whole session (401 TOKEN_REUSED).
   */
  @Post('refresh')
  @HttpCode(200)
  @Auth({ token: 'refresh' })
  @RateLimit('refresh')
  @Audit(AuditEvent.TOKEN_REFRESH)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async refresh(@CurrentUser() user: Principal, @ReqMeta() meta: RequestMeta): Promise<TokenPairDto> {
    const pair = await this.auth.refresh(user, meta);
    return {
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      token_type: 'Bearer',
      expires_in: pair.expiresIn,
    };
  }

  /** End this session: its access and refresh tokens stop working. */
  @Post('logout')
  @HttpCode(200)
  @Auth()
  @Audit(AuditEvent.LOGOUT)
  async logout(@CurrentUser() user: Principal, @ReqMeta() meta: RequestMeta): Promise<MessageDto> {
    await this.auth.logout(user, meta);
    return { message: 'Logged out successfully' };
  }

  /** End the session of the refresh token sent as Bearer. */
  @Post('logout_refresh')
  @HttpCode(200)
  @Auth({ token: 'refresh' })
  @Audit(AuditEvent.LOGOUT)
  async logoutRefresh(@CurrentUser() user: Principal, @ReqMeta() meta: RequestMeta): Promise<MessageDto> {
    await this.auth.logout(user, meta);
    return { message: 'Refresh token revoked; session ended' };
  }

  /**
   * Step-up: confirm the password, get a fresh access token in the same session. Shares the login
   * limit with POST /login and PUT /user/password; repeated wrong passwords lock the step for a
   * while (429 PASSWORD_CHECK_LOCKED with Retry-After).
   */
  @Post('auth/fresh')
  @HttpCode(200)
  @Auth()
  @RateLimit('login')
  @Audit(AuditEvent.FRESH_LOGIN)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED or PASSWORD_CHECK_LOCKED, with Retry-After' })
  async fresh(
    @CurrentUser() user: Principal,
    @Body() dto: FreshDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<AccessTokenDto> {
    const t = await this.auth.freshen(user, dto.password, meta);
    return { access_token: t.accessToken, token_type: 'Bearer', expires_in: t.expiresIn };
  }

  @Get('whoami')
  @Auth({ wallet: true })
  async whoami(@CurrentUser() user: Principal): Promise<WhoAmIResponseDto> {
    // the account and its wallet as read with the session: one query for the whole request
    const { user: u, balances, establishment } = await this.users.callerWithBalances(user);
    return toWhoAmI(u, balances, establishment);
  }

  /**
   * Change the password (fresh token required); every other session is ended. Shares the login
   * limit (per IP and per account) with POST /login and POST /auth/fresh, and repeated wrong current
   * passwords lock the step for a while (429 PASSWORD_CHECK_LOCKED with Retry-After).
   */
  @Put('user/password')
  @Auth({ fresh: true })
  @RateLimit('login')
  @Audit(AuditEvent.PASSWORD_CHANGE)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED or PASSWORD_CHECK_LOCKED, with Retry-After' })
  async changePassword(
    @CurrentUser() user: Principal,
    @Body() dto: ChangePasswordDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<MessageDto> {
    await this.auth.changePassword(user, dto, meta);
    return { message: 'Password changed; other sessions have been signed out' };
  }
}
