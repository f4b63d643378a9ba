import { Entity, PrimaryColumn } from 'typeorm';
import type { Currency } from '../common/money';
import { MinorUnitsColumn, UpdatedAtColumn } from '../database/columns';

/**
 * The house's net position per currency: the sum of its ledger legs (positive: it holds that much),
 * kept here so a conversion can lock it and check HOUSE_MAX_NET_USD without summing the ledger.
 * Created from the ledger on first use; GET /admin/ledger/verify checks it against the ledger.
 */
@Entity({ name: 'house_positions' })
export class HousePositionEntity {
  @PrimaryColumn({ type: 'varchar', length: 3 })
  currency!: Currency;

  @MinorUnitsColumn()
  amount!: bigint;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
