import type { InsertResult } from 'typeorm';

/** The generated integer id of a single-row insert, as both drivers report it. */
export function insertedId(res: InsertResult): number {
  return Number((res.identifiers[0] as { id: number | string }).id);
}
