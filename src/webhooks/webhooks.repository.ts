import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Page } from '../common/pagination';
import { dbDate, dialectOf } from '../database/dialect';
import { insertMany, insertOne } from '../database/insert';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';
import { WebhookEndpointEntity } from './webhook-endpoint.entity';

@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private endpoints(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(WebhookEndpointEntity);
  }

  private deliveries(m?: EntityManager) {
    return (m ?? this.dataSource.manager).getRepository(WebhookDeliveryEntity);
  }

  countEndpoints(userId: number, m: EntityManager): Promise<number> {
    return this.endpoints(m).count({ where: { userId } });
  }

  async insertEndpoint(
    row: Omit<WebhookEndpointEntity, 'id'>,
    m: EntityManager,
  ): Promise<WebhookEndpointEntity> {
    return { ...row, id: await insertOne(m, WebhookEndpointEntity, row) };
  }

  listEndpoints(userId: number): Promise<WebhookEndpointEntity[]> {
    return this.endpoints().find({ where: { userId }, order: { id: 'DESC' } });
  }

  findEndpoint(id: number, m?: EntityManager): Promise<WebhookEndpointEntity | null> {
    return this.endpoints(m).findOne({ where: { id } });
  }

  /** Every active endpoint with the role of its owner (for the in-memory subscriptions). */
  async activeEndpoints(): Promise<(WebhookEndpointEntity & { ownerRole: string })[]> {
    const rows = await this.endpoints()
      .createQueryBuilder('e')
      .innerJoin('users', 'u', 'u.id = e.user_id')
      .addSelect('u.role', 'owner_role')
      .where('e.status = :s', { s: 'ACTIVE' })
      .getRawAndEntities();
    return rows.entities.map((e, i) => ({
      ...e,
      ownerRole: String((rows.raw[i] as { owner_role: unknown }).owner_role),
    }));
  }

  async updateEndpoint(id: number, patch: Partial<WebhookEndpointEntity>, m?: EntityManager): Promise<void> {
    await this.endpoints(m).update({ id }, patch);
  }

  async deleteEndpoint(id: number, m: EntityManager): Promise<void> {
    await this.deliveries(m).delete({ endpointId: id });
    await this.endpoints(m).delete({ id });
  }

  async insertDeliveries(rows: Omit<WebhookDeliveryEntity, 'id'>[], m: EntityManager): Promise<void> {
    if (rows.length > 0) await insertMany(m, WebhookDeliveryEntity, rows);
  }

  listDeliveries(endpointId: number, page: Page): Promise<{ rows: WebhookDeliveryEntity[]; total: number }> {
    return this.deliveries()
      .findAndCount({ where: { endpointId }, order: { id: 'DESC' }, take: page.limit, skip: page.offset })
      .then(([rows, total]) => ({ rows, total }));
  }

  findDelivery(id: number, endpointId: number): Promise<WebhookDeliveryEntity | null> {
    return this.deliveries().findOne({ where: { id, endpointId } });
  }

  findDeliveryById(id: number): Promise<WebhookDeliveryEntity | null> {
    return this.deliveries().findOne({ where: { id } });
  }

  /** Ids of deliveries due now that nobody is attempting, oldest first. */
  async dueIds(now: Date, limit: number): Promise<number[]> {
    const d = dialectOf(this.dataSource);
    const rows: { id: unknown }[] = await this.dataSource.query(
      `SELECT w.id AS id FROM webhook_deliveries w
        WHERE w.status = 'PENDING' AND w.next_attempt_at <= ?
          AND (w.claimed_until IS NULL OR w.claimed_until < ?)
        ORDER BY w.next_attempt_at, w.id LIMIT ${Math.floor(limit)}`,
      [dbDate(d, now), dbDate(d, now)],
    );
    return rows.map((r) => Number(r.id));
  }

  /** Claims a due delivery for one attempt by `holder` until `until`: true for exactly one claimer. */
  async claim(id: number, holder: string, now: Date, until: Date): Promise<boolean> {
    const res = await this.deliveries()
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ claimedBy: holder, claimedUntil: until })
      .where('id = :id AND status = :pending AND next_attempt_at <= :now', { id, pending: 'PENDING', now })
      .andWhere('(claimed_until IS NULL OR claimed_until < :now)', { now })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  /** Records an attempt's outcome, only if `holder` still holds the claim. */
  async finish(id: number, holder: string, patch: Partial<WebhookDeliveryEntity>): Promise<boolean> {
    const res = await this.deliveries().update(
      { id, claimedBy: holder },
      { ...patch, claimedBy: null, claimedUntil: null },
    );
    return (res.affected ?? 0) === 1;
  }

  /** A FAILED delivery queued for one more attempt now; false if it is not FAILED. */
  async requeue(id: number, endpointId: number, now: Date): Promise<boolean> {
    const res = await this.deliveries().update(
      { id, endpointId, status: 'FAILED' },
      { status: 'PENDING', nextAttemptAt: now, claimedBy: null, claimedUntil: null },
    );
    return (res.affected ?? 0) === 1;
  }

  /** Gives up the pending deliveries of a disabled endpoint. */
  async failPending(endpointId: number, reason: string, m?: EntityManager): Promise<void> {
    await this.deliveries(m).update(
      { endpointId, status: 'PENDING' },
      { status: 'FAILED', lastError: reason, nextAttemptAt: null },
    );
  }
}
