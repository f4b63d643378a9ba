import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { EntityRows, preparedRows } from '../database/entity-rows';
import { UserEntity } from '../users/user.entity';
import { WalletEntity } from '../wallet/wallet.entity';
import { AuthSessionEntity } from './auth-session.entity';
import { RefreshTokenEntity } from './refresh-token.entity';

export interface SessionWithUser {
  session: AuthSessionEntity;
  user: UserEntity;
  /** Read with them when asked (null: the user has no wallet row yet); undefined when not asked. */
  wallet?: WalletEntity | null;
}

@Injectable()
export class SessionsRepository {
  private readonly sessions: EntityRows<AuthSessionEntity>;
  private readonly users: EntityRows<UserEntity>;
  private readonly wallets: EntityRows<WalletEntity>;
  private readonly sessionWithUserAndWalletSql: string;
  private readonly sessionWithUserSql: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sessions = new EntityRows(dataSource, AuthSessionEntity, 's');
    this.users = new EntityRows(dataSource, UserEntity, 'u');
    this.wallets = new EntityRows(dataSource, WalletEntity, 'w');
    const q = (name: string) => dataSource.driver.escape(name);
    const join = `INNER JOIN ${this.users.from} ON ${q('u')}.${q('id')} = ${q('s')}.${q('user_id')} `;
    const where = `WHERE ${q('s')}.${q('id')} = ?`;
    this.sessionWithUserSql = `SELECT ${this.sessions.select}, ${this.users.select} FROM ${this.sessions.from} ${join}${where}`;
    this.sessionWithUserAndWalletSql =
      `SELECT ${this.sessions.select}, ${this.users.select}, ${this.wallets.select} FROM ${this.sessions.from} ${join}` +
      `LEFT JOIN ${this.wallets.from} ON ${q('w')}.${q('user_id')} = ${q('s')}.${q('user_id')} ${where}`;
  }

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  async insertSession(row: AuthSessionEntity, m?: EntityManager): Promise<void> {
    await this.m(m).getRepository(AuthSessionEntity).insert(row);
  }

  /**
   * The session and its user in one query: what every authenticated request checks (hand-written:
   * hot, and a prepared statement on MySQL/MariaDB); with `withWallet`, the user's wallet in the
   * same query (the routes that answer balances).
   */
  async findSessionWithUser(sessionId: string, withWallet = false): Promise<SessionWithUser | null> {
    const sql = withWallet ? this.sessionWithUserAndWalletSql : this.sessionWithUserSql;
    const [row] = await preparedRows(this.dataSource, sql, [sessionId]);
    const session = row ? this.sessions.hydrate(row) : null;
    const user = row ? this.users.hydrate(row) : null;
    if (!session || !user) return null;
    return withWallet ? { session, user, wallet: this.wallets.hydrate(row) } : { session, user };
  }

  /** Revokes one session if still live; returns whether this call revoked it. */
  async revokeSession(sessionId: string, reason: string, at: Date, m?: EntityManager): Promise<boolean> {
    const res = await this.m(m)
      .getRepository(AuthSessionEntity)
      .update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: at, revokeReason: reason });
    return (res.affected ?? 0) > 0;
  }

  /** Revokes every live session of a user, except `keepSessionId`; returns how many. */
  async revokeUserSessions(
    userId: number,
    reason: string,
    at: Date,
    keepSessionId: string | null,
    m?: EntityManager,
  ): Promise<number> {
    const qb = this.m(m)
      .createQueryBuilder()
      .update(AuthSessionEntity)
      .set({ revokedAt: at, revokeReason: reason })
      .where('user_id = :userId', { userId })
      .andWhere('revoked_at IS NULL');
    if (keepSessionId) qb.andWhere('id <> :keep', { keep: keepSessionId });
    const res = await qb.execute();
    return res.affected ?? 0;
  }

  /** Rotation keeps a session alive as long as its newest refresh token. */
  async extendSession(sessionId: string, expiresAt: Date, m?: EntityManager): Promise<void> {
    await this.m(m).getRepository(AuthSessionEntity).update({ id: sessionId }, { expiresAt });
  }

  async insertRefreshToken(row: RefreshTokenEntity, m?: EntityManager): Promise<void> {
    await this.m(m).getRepository(RefreshTokenEntity).insert(row);
  }

  findRefreshToken(id: string, m?: EntityManager): Promise<RefreshTokenEntity | null> {
    return this.m(m).getRepository(RefreshTokenEntity).findOne({ where: { id } });
  }

  /** Marks a token spent once (compare-and-set); true when this call did it. */
  async markSpent(id: string, at: Date, m?: EntityManager): Promise<boolean> {
    const res = await this.m(m)
      .getRepository(RefreshTokenEntity)
      .update({ id, spentAt: IsNull() }, { spentAt: at });
    return (res.affected ?? 0) > 0;
  }
}
