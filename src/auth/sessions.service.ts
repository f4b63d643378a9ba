import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { SessionsRepository } from './sessions.repository';

/** Session revocation, for the auth flows and for admin status changes. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly clock: Clock,
  ) {}

  revokeSession(sessionId: string, reason: string, m?: EntityManager): Promise<boolean> {
    return this.repo.revokeSession(sessionId, reason, this.clock.now(), m);
  }

  revokeAllForUser(
    userId: number,
    reason: string,
    m?: EntityManager,
    keepSessionId: string | null = null,
  ): Promise<number> {
    return this.repo.revokeUserSessions(userId, reason, this.clock.now(), keepSessionId, m);
  }
}
