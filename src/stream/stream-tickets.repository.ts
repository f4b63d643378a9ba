import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, IsNull, LessThanOrEqual, MoreThan } from 'typeorm';
import { AuthSessionEntity } from '../auth/auth-session.entity';
import type { UserStatus } from '../users/user.entity';
import { StreamTicketEntity } from './stream-ticket.entity';

/** Who a ticket speaks for, and whether they still may. */
export interface TicketHolder {
  expiresAt: Date;
  sessionId: string;
  userId: number;
  /** When the session was revoked, or else when it expires. */
  sessionEndsAt: Date;
  userStatus: UserStatus;
}

@Injectable()
export class StreamTicketsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private tickets() {
    return this.dataSource.manager.getRepository(StreamTicketEntity);
  }

  async insert(row: StreamTicketEntity): Promise<void> {
    await this.tickets().insert(row);
  }

  /** A ticket not used yet (it may have expired) with its session and user, or null. */
  async find(id: string): Promise<TicketHolder | null> {
    const row = await this.tickets().findOne({
      where: { id },
      relations: { session: { user: true } },
      select: {
        id: true,
        expiresAt: true,
        session: {
          id: true,
          userId: true,
          expiresAt: true,
          revokedAt: true,
          user: { id: true, status: true },
        },
      },
    });
    const session = row?.session;
    if (!row || !session?.user) return null;
    return {
      expiresAt: row.expiresAt,
      sessionId: session.id,
      userId: session.userId,
      sessionEndsAt: session.revokedAt ?? session.expiresAt,
      userStatus: session.user.status,
    };
  }

  /** Uses a ticket up: true for the one call that deleted it (a ticket opens one stream, on any instance). */
  async consume(id: string): Promise<boolean> {
    const res = await this.tickets().delete({ id });
    return (res.affected ?? 0) > 0;
  }

  /**
   * Of these sessions, those a stream may still serve: not revoked, not expired, and their user
   * active (one query for every stream of this instance).
   */
  async liveSessions(sessionIds: string[], now: Date): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    const sessions = await this.dataSource.manager.getRepository(AuthSessionEntity).find({
      where: {
        id: In(sessionIds),
        revokedAt: IsNull(),
        expiresAt: MoreThan(now),
        user: { status: 'ACTIVE' },
      },
      relations: { user: true },
      select: { id: true, user: { id: true, status: true } },
    });
    return new Set(sessions.map((s) => s.id));
  }

  /** Deletes the tickets that expired unused; returns how many. */
  async purgeExpired(now: Date): Promise<number> {
    const res = await this.tickets().delete({ expiresAt: LessThanOrEqual(now) });
    return res.affected ?? 0;
  }
}
