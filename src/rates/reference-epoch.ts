import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { dbDate, dialectOf } from '../database/dialect';

/** The reference epoch's row (see ReferenceEpochEntity). */
const ID = 1;

/** Sets a new epoch in `m`'s transaction (the row is created when missing). */
export async function bumpReferenceEpoch(m: EntityManager, now: Date): Promise<void> {
  const dialect = dialectOf(m);
  const params = [ID, randomUUID(), dbDate(dialect, now)];
  await m.query(
    dialect === 'mysql'
      ? 'INSERT INTO reference_epoch (id, epoch, changed_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE epoch = VALUES(epoch), changed_at = VALUES(changed_at)'
      : 'INSERT INTO reference_epoch (id, epoch, changed_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, changed_at = excluded.changed_at',
    params,
  );
}

/** The epoch now ('' when the row does not exist yet). */
export async function readReferenceEpoch(m: EntityManager): Promise<string> {
  const rows: { epoch: string }[] = await m.query('SELECT epoch FROM reference_epoch WHERE id = ?', [ID]);
  return rows[0]?.epoch ?? '';
}
