import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { Clock } from '../clock';
import { BadRequestError, BusinessRuleError, ConflictError } from '../errors/app-error';
import { isUniqueViolation } from '../errors/db-errors';
import { IdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_RETENTION_MS = 24 * 3600 * 1000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentResult<T> {
  status: number;
  body: T;
}

export interface IdempotencyScope {
  userId: number;
  /** The Idempotency-Key header, if the client sent one. */
  key: string | undefined;
  /** What makes two requests "the same": route and body. */
  request: unknown;
}

/** Stable JSON (sorted keys) so the same body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key for money-moving POSTs: the first request claims the key, acts, and stores its
 * response in one transaction; replays with the same body get that response without acting again
 * (concurrent replays wait for it on the key's unique index); the same key with another body is 422.
 * A request that fails rolls its claim back, so a corrected retry can act. Keys live 24 hours.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly repo: IdempotencyRepository,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  async execute<T>(
    scope: IdempotencyScope,
    action: (m: EntityManager) => Promise<IdempotentResult<T>>,
  ): Promise<IdempotentResult<T>> {
    if (scope.key === undefined) return this.tx.run(action);
    const key = scope.key;
    if (!KEY_PATTERN.test(key)) {
      throw new BadRequestError(
        'Idempotency-Key must be 1-255 visible ASCII characters.',
        'VALIDATION_FAILED',
        [{ field: 'Idempotency-Key', message: '1-255 visible ASCII characters' }],
      );
    }
    const requestHash = createHash('sha256').update(canonical(scope.request)).digest('hex');
    // A few rounds at most: another round is needed only when the key's holder rolled back or the
    // stored key had expired, which cannot keep happening to one request.
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await this.tx.run(async (m): Promise<IdempotentResult<T> | 'taken'> => {
        // The claim commits (or rolls back) with the action: a crash or a refusal leaves no claimed key.
        // A concurrent request with the same key waits on the unique index until this one ends.
        const id = await this.claim(scope.userId, key, requestHash, m);
        if (id === null) return 'taken';
        const result = await action(m);
        await this.repo.complete(id, result.status, JSON.stringify(result.body), m);
        return result;
      });
      if (outcome !== 'taken') return outcome;
      // Committed keys are always complete: the claim and the response commit together.
      const row = await this.repo.find(scope.userId, key);
      if (!row) continue; // the other request rolled back: act now
      if (row.expiresAt.getTime() <= this.clock.now().getTime()) {
        await this.tx.run((m) => this.repo.delete(row.id, m));
        continue;
      }
      if (row.requestHash !== requestHash) {
        throw new BusinessRuleError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used with a different request.',
        );
      }
      return { status: row.responseStatus ?? 200, body: JSON.parse(row.responseBody ?? 'null') as T };
    }
    throw new ConflictError(
      'This Idempotency-Key could not be settled; retry later.',
      'IDEMPOTENCY_IN_PROGRESS',
    );
  }

  /** Inserts the key's row in the caller's transaction; null when the key is already taken. */
  private async claim(
    userId: number,
    key: string,
    requestHash: string,
    m: EntityManager,
  ): Promise<number | null> {
    const now = this.clock.now();
    try {
      return await this.repo.insert(
        {
          userId,
          idemKey: key,
          requestHash,
          state: 'IN_PROGRESS',
          responseStatus: null,
          responseBody: null,
          createdAt: now,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_RETENTION_MS),
        },
        m,
      );
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /** Drops keys past their 24 hours (the scheduler calls this). */
  purgeExpired(): Promise<number> {
    return this.tx.run((m) => this.repo.deleteExpired(this.clock.now(), m));
  }
}
