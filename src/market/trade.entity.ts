import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, DoubleColumn, MinorUnitsColumn } from '../database/columns';

/** One settled take of an offer. The buyer is the side that receives USD. */
@Entity({ name: 'trades' })
@Index('ix_trades_offer', ['offerId'])
@Index('ix_trades_buyer_time', ['buyerUserId', 'createdAt'])
@Index('ix_trades_seller_time', ['sellerUserId', 'createdAt'])
@Index('ix_trades_time', ['createdAt'])
export class TradeEntity {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'int', name: 'offer_id' })
  offerId!: number;

  @Column({ type: 'int', name: 'maker_user_id' })
  makerUserId!: number;

  @Column({ type: 'int', name: 'taker_user_id' })
  takerUserId!: number;

  @Column({ type: 'int', name: 'buyer_user_id' })
  buyerUserId!: number;

  @Column({ type: 'int', name: 'seller_user_id' })
  sellerUserId!: number;

  /** Minor units. */
  @MinorUnitsColumn({ name: 'usd_amount' })
  usdAmount!: bigint;

  @MinorUnitsColumn({ name: 'lbp_amount' })
  lbpAmount!: bigint;

  /** LBP per USD of this fill. */
  @DoubleColumn()
  rate!: number;

  @CreatedAtColumn()
  createdAt!: Date;
}
