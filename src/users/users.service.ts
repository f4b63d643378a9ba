import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../audit/audit-events';
import { type AuditActor, AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { SessionsService } from '../auth/sessions.service';
import { Clock } from '../common/clock';
import { TransactionRunner } from '../database/transaction-runner';
import { isUniqueViolation } from '../common/errors/db-errors';
import type { RequestMeta } from '../common/http/request-meta';
import type { Page } from '../common/pagination';
import type { PreferencesDto, UpdatePreferencesDto } from './dto/preferences.dto';
import { type UserFilter, UsersRepository } from './users.repository';
import { SelfModificationError } from '../common/errors/app-error';
import {
  ActorNoLongerAdminError,
  LastAdminError,
  UserNameTakenError,
  UserNotFoundError,
} from './users.errors';
import type { UserPreferencesEntity } from './user-preferences.entity';
import type { Role, UserEntity, UserStatus } from './user.entity';
import { type Balances, WalletService, ZERO_BALANCES } from '../wallet/wallet.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ReferenceRateService } from '../rates/reference-rate.service';
import { type Establishment, establishment, establishmentPolicy } from './establishment';

export interface NewUser {
  userName: string;
  passwordHash: string;
  email?: string | null;
  role?: Role;
}

export interface UserWithBalances {
  user: UserEntity;
  balances: Balances;
  establishment: Establishment;
}

export const DEFAULT_PREFERENCES: PreferencesDto = { default_range_hours: 72, default_bucket: 'hour' };

export function userNameKey(userName: string): string {
  return userName.toLowerCase();
}

@Injectable()
export class UsersService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly repo: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly wallets: WalletService,
    private readonly reference: ReferenceRateService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether the account's rate samples count toward the reference now, and since when. */
  establishmentOf(u: UserEntity): Establishment {
    return establishment(u, establishmentPolicy(this.config), this.clock.now());
  }

  /** Inserts a user; a taken name (also under a concurrent insert) is USER_NAME_TAKEN. */
  async create(input: NewUser, m?: EntityManager): Promise<UserEntity> {
    const now = this.clock.now();
    try {
      const row: Omit<UserEntity, 'id'> = {
        userName: input.userName,
        userNameKey: userNameKey(input.userName),
        email: input.email ?? null,
        passwordHash: input.passwordHash,
        role: input.role ?? 'USER',
        status: 'ACTIVE',
        passwordChangedAt: null,
        trusted: null,
        trustedAt: null,
        fundedUsd: 0n,
        fundedAt: null,
        transactionsCount: 0,
        createdAt: now,
        updatedAt: now,
      };
      return await this.tx.within(m, async (tm) => {
        const user = await this.repo.insert(row, tm);
        await this.wallets.open(user.id, tm);
        return user;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new UserNameTakenError();
      throw err;
    }
  }

  findByUserName(userName: string, m?: EntityManager): Promise<UserEntity | null> {
    return this.repo.findByNameKey(userNameKey(userName), m);
  }

  async getById(id: number, m?: EntityManager): Promise<UserEntity> {
    const user = await this.repo.findById(id, m);
    if (!user) throw new UserNotFoundError();
    return user;
  }

  async setPasswordHash(id: number, passwordHash: string, m?: EntityManager): Promise<void> {
    const now = this.clock.now();
    await this.repo.update(id, { passwordHash, passwordChangedAt: now, updatedAt: now }, m);
  }

  /** Makes a user an active admin with a new password (the admin:create CLI). */
  async promoteToAdmin(id: number, passwordHash: string, m: EntityManager): Promise<void> {
    const now = this.clock.now();
    await this.repo.update(
      id,
      { role: 'ADMIN', status: 'ACTIVE', passwordHash, passwordChangedAt: now, updatedAt: now },
      m,
    );
  }

  /** Admins who can act (suspended or banned ones cannot). */
  countActiveAdmins(): Promise<number> {
    return this.repo.countActiveAdmins();
  }

  /** A page of users with their balances. */
  async list(filter: UserFilter, page: Page): Promise<{ rows: UserWithBalances[]; total: number }> {
    const { rows, total } = await this.repo.search(filter, page);
    const balances = await this.wallets.balancesOf(rows.map((u) => u.id));
    return {
      rows: rows.map((user) => ({
        user,
        balances: balances.get(user.id) ?? ZERO_BALANCES,
        establishment: this.establishmentOf(user),
      })),
      total,
    };
  }

  /** A transaction record of the user, in its transaction: counted for their list's total. */
  addTransactionRecord(userId: number, m: EntityManager): Promise<void> {
    return this.repo.addTransactionRecord(userId, m);
  }

  /** The caller's account and balances as read with their session (GET /whoami; see Principal). */
  async callerWithBalances(p: Principal): Promise<UserWithBalances> {
    return {
      user: p.user,
      balances: await this.wallets.callerBalances(p),
      establishment: this.establishmentOf(p.user),
    };
  }

  /**
   * Inside an admin change's transaction: locks the acting admin's and the target's rows (in id
   * order) and checks, as they are now, that the actor is still an active admin and that, when the
   * change takes an active admin away, another active admin remains. Two admins banning each other
   * at the same moment: the second waits for the first, then finds itself banned.
   */
  private async lockForAdminChange(
    actorId: number,
    targetId: number,
    removesActiveAdmin: (target: UserEntity) => boolean,
    what: string,
    m: EntityManager,
  ): Promise<UserEntity> {
    const rows = await this.repo.lockUsers([actorId, targetId], m);
    const actor = rows.find((u) => u.id === actorId);
    if (!actor || actor.role !== 'ADMIN' || actor.status !== 'ACTIVE') throw new ActorNoLongerAdminError();
    const target = rows.find((u) => u.id === targetId);
    if (!target) throw new UserNotFoundError();
    // With self-changes refused and the actor checked above, the actor is that other admin; the
    // count stays as a second line should either rule ever change.
    if (removesActiveAdmin(target)) {
      const others = (await this.repo.lockActiveAdminIds(m)).filter((id) => id !== targetId);
      if (others.length === 0) throw new LastAdminError(what);
    }
    return target;
  }

  async setStatus(
    actor: AuditActor & { id: number },
    targetId: number,
    status: UserStatus,
    meta: RequestMeta,
  ): Promise<UserEntity> {
    if (actor.id === targetId) throw new SelfModificationError('status');
    return this.tx.run(async (m) => {
      const user = await this.lockForAdminChange(
        actor.id,
        targetId,
        (t) => t.role === 'ADMIN' && t.status === 'ACTIVE' && status !== 'ACTIVE',
        status === 'BANNED' ? 'banned' : 'suspended',
        m,
      );
      const previous = user.status;
      await this.repo.update(targetId, { status, updatedAt: this.clock.now() }, m);
      const revoked =
        status === 'ACTIVE' ? 0 : await this.sessions.revokeAllForUser(targetId, `STATUS_${status}`, m);
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_USER_STATUS_CHANGE,
          action: 'set user status',
          success: true,
          statusCode: 200,
          message: `status ${previous} -> ${status}`,
          actor,
          targetUserId: targetId,
          metadata: { previous_status: previous, status, sessions_revoked: revoked },
          request: meta,
        },
        m,
      );
      // its samples leave (or come back to) the reference with the status
      if (previous !== status) await this.reference.samplesChanged(m);
      return { ...user, status };
    });
  }

  /**
   * An admin's word on an account as a rate contributor: trusted (established at once) or distrusted
   * (never established, its samples out of the reference at once). Not on yourself: no admin makes
   * their own samples count. Audited in the same transaction.
   */
  async setTrust(
    actor: AuditActor & { id: number },
    targetId: number,
    trusted: boolean,
    note: string | null,
    meta: RequestMeta,
  ): Promise<{ user: UserEntity; establishment: Establishment }> {
    if (actor.id === targetId) throw new SelfModificationError('trust');
    return this.tx.run(async (m) => {
      const user = await this.lockForAdminChange(actor.id, targetId, () => false, 'distrusted', m);
      const now = this.clock.now();
      const before = this.establishmentOf(user);
      const changed = user.trusted !== trusted;
      const after: UserEntity = changed ? { ...user, trusted, trustedAt: now, updatedAt: now } : user;
      if (changed) await this.repo.update(targetId, { trusted, trustedAt: now, updatedAt: now }, m);
      const est = this.establishmentOf(after);
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_USER_TRUST_CHANGE,
          action: 'set user trust',
          success: true,
          statusCode: 200,
          message: `trusted ${String(user.trusted)} -> ${String(trusted)}${note ? `: ${note}` : ''}`,
          actor,
          targetUserId: targetId,
          metadata: {
            previous_trusted: user.trusted,
            trusted,
            established_before: before.established,
            established: est.established,
            note,
          },
          request: meta,
        },
        m,
      );
      if (changed) await this.reference.samplesChanged(m);
      return { user: after, establishment: est };
    });
  }

  /**
   * A confirmed deposit worth `usd` (minor units) counts toward establishment, inside the
   * confirmation's transaction: the first time the total reaches RATE_CONTRIBUTOR_MIN_DEPOSIT_USD is
   * kept as `funded_at`. One conditional statement, so two confirmations at once both add up.
   */
  async addConfirmedDeposit(userId: number, usd: bigint, m: EntityManager): Promise<void> {
    if (usd <= 0n) return;
    await this.repo.addFunded(userId, usd, this.config.rates.contributorMinDepositUsd, this.clock.now(), m);
  }

  async setRole(
    actor: AuditActor & { id: number },
    targetId: number,
    role: Role,
    meta: RequestMeta,
  ): Promise<UserEntity> {
    if (actor.id === targetId) throw new SelfModificationError('role');
    return this.tx.run(async (m) => {
      const user = await this.lockForAdminChange(
        actor.id,
        targetId,
        (t) => t.role === 'ADMIN' && t.status === 'ACTIVE' && role !== 'ADMIN',
        'demoted',
        m,
      );
      await this.repo.update(targetId, { role, updatedAt: this.clock.now() }, m);
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_USER_ROLE_CHANGE,
          action: 'set user role',
          success: true,
          statusCode: 200,
          message: `role ${user.role} -> ${role}`,
          actor,
          targetUserId: targetId,
          metadata: { previous_role: user.role, role },
          request: meta,
        },
        m,
      );
      return { ...user, role };
    });
  }

  /** The user's preferences; the row is created with the defaults on first read. */
  async getPreferences(userId: number, m?: EntityManager): Promise<UserPreferencesEntity> {
    const found = await this.repo.findPreferences(userId, m);
    if (found) return found;
    await this.getById(userId, m);
    const row = {
      userId,
      defaultRangeHours: DEFAULT_PREFERENCES.default_range_hours,
      defaultBucket: DEFAULT_PREFERENCES.default_bucket,
      updatedAt: this.clock.now(),
    };
    await this.tx.within(m, (tm) => this.repo.insertPreferencesIfMissing(row, tm));
    const created = await this.repo.findPreferences(userId, m);
    if (!created) throw new UserNotFoundError();
    return created;
  }

  async updatePreferences(
    actor: AuditActor & { id: number },
    userId: number,
    patch: UpdatePreferencesDto,
    meta: RequestMeta,
  ): Promise<UserPreferencesEntity> {
    return this.tx.run(async (m) => {
      const current = await this.getPreferences(userId, m);
      const next: UserPreferencesEntity = {
        userId,
        defaultRangeHours: patch.default_range_hours ?? current.defaultRangeHours,
        defaultBucket: patch.default_bucket ?? current.defaultBucket,
        updatedAt: this.clock.now(),
      };
      await this.repo.savePreferences(next, m);
      const byAdmin = actor.id !== userId;
      await this.audit.record(
        {
          event: byAdmin ? AuditEvent.ADMIN_PREFERENCES_UPDATE : AuditEvent.PREFERENCES_UPDATE,
          action: 'update preferences',
          success: true,
          statusCode: 200,
          actor,
          targetUserId: userId,
          metadata: {
            before: { default_range_hours: current.defaultRangeHours, default_bucket: current.defaultBucket },
            after: { default_range_hours: next.defaultRangeHours, default_bucket: next.defaultBucket },
          },
          request: meta,
        },
        m,
      );
      return next;
    });
  }
}
