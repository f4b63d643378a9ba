import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { EntityRows, queryRows } from '../database/entity-rows';
import { UserEntity } from '../users/user.entity';
import { AuthSessionEntity } from './auth-session.entity';
import { RefreshTokenEntity } from './refresh-token.entity';

export interface SessionWithUser {
  session: AuthSessionEntity;
  user: UserEntity;
}

@Injectable()
export class SessionsRepository {
  private readonly sessions: EntityRows<AuthSessionEntity>;
  private readonly users: EntityRows<UserEntity>;
  private readonly sessionWithUserSql: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sessions = new EntityRows(dataSource, AuthSessionEntity, 's');
    this.users = new EntityRows(dataSource, UserEntity, 'u');
    const q = (name: string) => dataSource.driver.escape(name);
    this.sessionWithUserSql =
      `SELECT ${this.sessions.select}, ${this.users.select} FROM ${this.sessions.from} ` +
      `INNER JOIN ${this.users.from} ON ${q('u')}.${q('id')} = ${q('s')}.${q('user_id')} ` +
      `WHERE ${q('s')}.${q('id')} = ?`;
  }

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  async insertSession(row: AuthSessionEntity, m?: EntityManager): Promise<void> {
    await this.m(m).getRepository(AuthSessionEntity).insert(row);
  }

  /** The session and its user in one query: what every authenticated request checks (hand-written: hot). */
  async findSessionWithUser(sessionId: string): Promise<SessionWithUser | null> {
    const [row] = await queryRows(this.dataSource, this.sessionWithUserSql, [sessionId]);
    const session = row ? this.sessions.hydrate(row) : null;
    const user = row ? this.users.hydrate(row) : null;
    return session && user ? { session, user } : null;
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
