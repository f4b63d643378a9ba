import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditEntry, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { type AppError, BadRequestError } from '../common/errors/app-error';
import type { RequestMeta } from '../common/http/request-meta';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { establishment, establishmentPolicy } from '../users/establishment';
import { TransactionRunner } from '../database/transaction-runner';
import type { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import {
  AccountInactiveError,
  InvalidCredentialsError,
  PasswordCheckLockedError,
  InvalidTokenError,
  SessionExpiredError,
  TokenRevokedError,
  TokenReusedError,
} from './auth.errors';
import type { ChangePasswordDto, LoginDto, RegisterDto } from './dto/auth.dto';
import { PasswordCheckService } from './password-check.service';
import { PasswordHasher } from './password-hasher';
import type { Principal, TokenClaims } from './principal';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { sha256, TokenService } from './token.service';
import { markAudited } from '../common/errors/audited';
import { METRICS } from '../metrics/metrics';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const USER_NAME = /^[A-Za-z0-9_.-]{3,30}$/;

const actorOf = (p: { id: number; userName: string }) => ({ id: p.id, userName: p.userName });

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly passwordChecks: PasswordCheckService,
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly sessionsRepo: SessionsRepository,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async register(dto: RegisterDto, meta: RequestMeta): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(dto.password);
    return this.tx.run(async (m) => {
      const user = await this.users.create(
        { userName: dto.user_name, passwordHash, email: dto.email ?? null },
        m,
      );
      await this.audit.record(
        {
          event: AuditEvent.USER_REGISTER,
          action: 'register',
          success: true,
          statusCode: 201,
          actor: actorOf(user),
          targetUserId: user.id,
          request: meta,
        },
        m,
      );
      return user;
    });
  }

  /** Checks the password (same work for an unknown name) and the account status. */
  private async checkCredentials(dto: LoginDto, meta: RequestMeta, action: string): Promise<UserEntity> {
    // Only names that could have been registered are looked up: MySQL's collations would otherwise
    // match 'alice ' or 'alicé' to alice, and each spelling would get its own rate-limit counter.
    const user = USER_NAME.test(dto.user_name) ? await this.users.findByUserName(dto.user_name) : null;
    const account = user ? `user:${user.id}` : `name:${dto.user_name.toLowerCase().slice(0, 64)}`;
    const ok = await this.passwordChecks.verifyLogin(account, dto.password, user?.passwordHash ?? null);
    if (!user || !ok) {
      return this.refuse(new InvalidCredentialsError(), {
        event: AuditEvent.LOGIN_FAILURE,
        action,
        actor: user ? actorOf(user) : { id: null, userName: dto.user_name.slice(0, 30) },
        targetUserId: user?.id ?? null,
        metadata: { reason: user ? 'WRONG_PASSWORD' : 'UNKNOWN_USER' },
        request: meta,
      });
    }
    if (user.status !== 'ACTIVE') {
      return this.refuse(new AccountInactiveError(user.status), {
        event: AuditEvent.LOGIN_FAILURE,
        action,
        actor: actorOf(user),
        targetUserId: user.id,
        metadata: { reason: `ACCOUNT_${user.status}` },
        request: meta,
      });
    }
    return user;
  }

  async login(dto: LoginDto, meta: RequestMeta): Promise<TokenPair> {
    const user = await this.checkCredentials(dto, meta, 'login');
    return this.tx.run(async (m) => {
      const pair = await this.openSession(user, m);
      await this.recordLogin(user, 'login', meta, m);
      return pair;
    });
  }

  /** Older clients' POST /authentication: one fresh access token, its own session. */
  async legacyAuthenticate(dto: LoginDto, meta: RequestMeta): Promise<string> {
    const user = await this.checkCredentials(dto, meta, 'authentication');
    return this.tx.run(async (m) => {
      const now = this.clock.now();
      const sessionId = await this.createSession(user.id, now, m);
      const access = await this.tokens.signAccess(user.id, sessionId, true, now);
      await this.recordLogin(user, 'authentication', meta, m);
      return access.token;
    });
  }

  /** A new login session (the family of every token issued from this login); returns its id. */
  private async createSession(userId: number, now: Date, m: EntityManager): Promise<string> {
    const id = randomUUID();
    const ttl = Math.max(this.config.auth.refreshTtlSeconds, this.config.auth.accessTtlSeconds);
    const expiresAt = new Date(now.getTime() + ttl * 1000);
    await this.sessionsRepo.insertSession(
      { id, userId, createdAt: now, expiresAt, revokedAt: null, revokeReason: null },
      m,
    );
    return id;
  }

  private async openSession(user: UserEntity, m: EntityManager): Promise<TokenPair> {
    const now = this.clock.now();
    const sessionId = await this.createSession(user.id, now, m);
    const access = await this.tokens.signAccess(user.id, sessionId, true, now);
    const refresh = await this.tokens.signRefresh(user.id, sessionId, now);
    await this.sessionsRepo.insertRefreshToken(
      {
        id: refresh.jti,
        sessionId,
        parentId: null,
        tokenHash: sha256(refresh.token),
        spentAt: null,
        expiresAt: refresh.expiresAt,
        createdAt: now,
      },
      m,
    );
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresIn: this.tokens.accessTtlSeconds,
    };
  }

  private recordLogin(user: UserEntity, action: string, meta: RequestMeta, m: EntityManager): Promise<void> {
    return this.audit.record(
      {
        event: AuditEvent.LOGIN_SUCCESS,
        action,
        success: true,
        statusCode: 200,
        actor: actorOf(user),
        targetUserId: user.id,
        request: meta,
      },
      m,
    );
  }

  /**
   * Whether a bearer token belongs to an active admin with a fresh access token right now (what the
   * import route's larger body limit needs, checked before the body is read). Never throws.
   */
  async isFreshAdminToken(token: string): Promise<boolean> {
    const claims = await this.tokens.verify(token);
    if (!claims) return false;
    try {
      const p = await this.resolvePrincipal(claims, token);
      return p.tokenType === 'access' && p.role === 'ADMIN' && p.fresh;
    } catch {
      return false;
    }
  }

  /** Loads the caller for a verified token: the session must be live and the account active. */
  async resolvePrincipal(claims: TokenClaims, token: string, withWallet = false): Promise<Principal> {
    if (
      typeof claims.sub !== 'number' ||
      (claims.typ !== 'access' && claims.typ !== 'refresh') ||
      typeof claims.sid !== 'string' ||
      typeof claims.jti !== 'string'
    ) {
      throw new InvalidTokenError();
    }
    const found = await this.sessionsRepo.findSessionWithUser(claims.sid, withWallet);
    if (!found || found.user.id !== claims.sub) throw new InvalidTokenError();
    const now = this.clock.now();
    // Status first: a suspended user (whose sessions were revoked with the suspension) learns why.
    if (found.user.status !== 'ACTIVE') throw new AccountInactiveError(found.user.status);
    if (found.session.revokedAt !== null) throw new TokenRevokedError();
    if (found.session.expiresAt.getTime() <= now.getTime()) throw new SessionExpiredError();
    const fresh =
      claims.typ === 'access' &&
      claims.fresh === true &&
      typeof claims.fresh_exp === 'number' &&
      claims.fresh_exp * 1000 > now.getTime();
    return {
      id: found.user.id,
      userName: found.user.userName,
      role: found.user.role,
      status: found.user.status,
      sessionId: claims.sid,
      tokenType: claims.typ,
      jti: claims.jti,
      fresh,
      established: establishment(found.user, establishmentPolicy(this.config), now).established,
      token,
      user: found.user,
      ...(withWallet ? { wallet: found.wallet ?? null } : {}),
    };
  }

  /**
   * Rotation: every call returns a new refresh token. Using a token marks its parent spent; a spent
   * token presented again ends the whole session (family) and is refused.
   */
  async refresh(p: Principal, meta: RequestMeta): Promise<TokenPair> {
    const row = await this.sessionsRepo.findRefreshToken(p.jti);
    if (!row || row.sessionId !== p.sessionId || row.tokenHash !== sha256(p.token))
      throw new InvalidTokenError();
    const outcome = await this.tx.run(async (m): Promise<TokenPair | 'reused'> => {
      const now = this.clock.now();
      const current = await this.sessionsRepo.findRefreshToken(p.jti, m);
      if (!current) throw new InvalidTokenError();
      if (current.spentAt !== null) {
        await this.sessions.revokeSession(p.sessionId, 'REFRESH_TOKEN_REUSE', m);
        await this.audit.record(
          {
            event: AuditEvent.TOKEN_REUSE_DETECTED,
            action: 'refresh',
            success: false,
            statusCode: 401,
            message: 'spent refresh token presented; session revoked',
            actor: actorOf(p),
            targetUserId: p.id,
            metadata: { session_id: p.sessionId, token_id: p.jti },
            request: meta,
          },
          m,
        );
        return 'reused';
      }
      if (current.parentId) await this.sessionsRepo.markSpent(current.parentId, now, m);
      const access = await this.tokens.signAccess(p.id, p.sessionId, false, now);
      const refresh = await this.tokens.signRefresh(p.id, p.sessionId, now);
      await this.sessionsRepo.extendSession(p.sessionId, refresh.expiresAt, m);
      await this.sessionsRepo.insertRefreshToken(
        {
          id: refresh.jti,
          sessionId: p.sessionId,
          parentId: current.id,
          tokenHash: sha256(refresh.token),
          spentAt: null,
          expiresAt: refresh.expiresAt,
          createdAt: now,
        },
        m,
      );
      await this.audit.record(
        {
          event: AuditEvent.TOKEN_REFRESH,
          action: 'refresh',
          success: true,
          statusCode: 200,
          actor: actorOf(p),
          targetUserId: p.id,
          metadata: { session_id: p.sessionId },
          request: meta,
        },
        m,
      );
      return {
        accessToken: access.token,
        refreshToken: refresh.token,
        expiresIn: this.tokens.accessTtlSeconds,
      };
    });
    if (outcome === 'reused') {
      const err = new TokenReusedError();
      markAudited(err);
      throw err;
    }
    return outcome;
  }

  /** Ends the caller's session: its access tokens and refresh tokens all stop working. */
  async logout(p: Principal, meta: RequestMeta): Promise<void> {
    await this.tx.run(async (m) => {
      await this.sessions.revokeSession(
        p.sessionId,
        p.tokenType === 'refresh' ? 'LOGOUT_REFRESH' : 'LOGOUT',
        m,
      );
      await this.audit.record(
        {
          event: AuditEvent.LOGOUT,
          action: p.tokenType === 'refresh' ? 'logout_refresh' : 'logout',
          success: true,
          statusCode: 200,
          actor: actorOf(p),
          targetUserId: p.id,
          metadata: { session_id: p.sessionId },
          request: meta,
        },
        m,
      );
    });
  }

  /**
   * A step-up password check (POST /auth/fresh, PUT /user/password): refused while the account's
   * step-up is locked; a wrong password counts towards the lock. Each refusal is audited with its
   * reason, and the lock (until when) when there is one.
   */
  private async checkStepUp(
    p: Principal,
    password: string,
    audit: { event: AuditEntry['event']; action: string; wrongReason: string },
    meta: RequestMeta,
  ): Promise<void> {
    const user = await this.users.getById(p.id);
    const result = await this.passwordChecks.stepUp(p.id, password, user.passwordHash);
    if (result.outcome === 'ok') return;
    const entry = {
      event: audit.event,
      action: audit.action,
      actor: actorOf(p),
      targetUserId: p.id,
      request: meta,
    };
    if (result.outcome === 'wrong') {
      await this.refuse(new InvalidCredentialsError(), {
        ...entry,
        metadata: { reason: audit.wrongReason, attempts_left: result.attemptsLeft },
      });
    }
    if (result.outcome === 'locked') {
      await this.refuse(new PasswordCheckLockedError(result.lockedUntil, this.clock.now()), {
        ...entry,
        metadata: {
          reason: result.now ? `${audit.wrongReason}_LOCKED` : 'PASSWORD_CHECK_LOCKED',
          locked_until: result.lockedUntil.toISOString(),
        },
      });
    }
  }

  /** Step-up: a new fresh access token in the same session, after a password check. */
  async freshen(
    p: Principal,
    password: string,
    meta: RequestMeta,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    await this.checkStepUp(
      p,
      password,
      { event: AuditEvent.FRESH_LOGIN, action: 'auth fresh', wrongReason: 'WRONG_PASSWORD' },
      meta,
    );
    const access = await this.tokens.signAccess(p.id, p.sessionId, true, this.clock.now());
    await this.audit.record({
      event: AuditEvent.FRESH_LOGIN,
      action: 'auth fresh',
      success: true,
      statusCode: 200,
      actor: actorOf(p),
      targetUserId: p.id,
      request: meta,
    });
    return { accessToken: access.token, expiresIn: this.tokens.accessTtlSeconds };
  }

  /** Changes the password and ends every other session of the user. */
  async changePassword(p: Principal, dto: ChangePasswordDto, meta: RequestMeta): Promise<void> {
    await this.checkStepUp(
      p,
      dto.current_password,
      { event: AuditEvent.PASSWORD_CHANGE, action: 'change password', wrongReason: 'WRONG_CURRENT_PASSWORD' },
      meta,
    );
    if (dto.new_password === dto.current_password) {
      throw new BadRequestError('The new password must differ from the current one.', 'VALIDATION_FAILED', [
        { field: 'new_password', message: 'must differ from current_password' },
      ]);
    }
    const hash = await this.hasher.hash(dto.new_password);
    await this.tx.run(async (m) => {
      await this.users.setPasswordHash(p.id, hash, m);
      const revoked = await this.sessions.revokeAllForUser(p.id, 'PASSWORD_CHANGE', m, p.sessionId);
      await this.audit.record(
        {
          event: AuditEvent.PASSWORD_CHANGE,
          action: 'change password',
          success: true,
          statusCode: 200,
          actor: actorOf(p),
          targetUserId: p.id,
          metadata: { other_sessions_revoked: revoked },
          request: meta,
        },
        m,
      );
    });
  }

  /** Writes the refusal's audit row, marks the error as audited and throws it. */
  private async refuse(
    error: AppError,
    entry: Omit<AuditEntry, 'success' | 'statusCode' | 'message'>,
  ): Promise<never> {
    const reason = typeof entry.metadata?.reason === 'string' ? entry.metadata.reason : error.code;
    METRICS.loginFailures.inc({ reason });
    await this.audit.record({
      ...entry,
      success: false,
      statusCode: error.statusCode,
      message: error.message,
    });
    markAudited(error);
    throw error;
  }
}
