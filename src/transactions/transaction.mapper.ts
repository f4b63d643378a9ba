import { roundRate, toMajor } from '../common/money';
import type { TransactionDto } from './dto/transaction.dto';
import type { TransactionEntity } from './transaction.entity';

export function toTransactionDto(t: TransactionEntity): TransactionDto {
  return {
    id: t.id,
    usd_amount: toMajor(t.usdAmount),
    lbp_amount: toMajor(t.lbpAmount),
    usd_to_lbp: t.usdToLbp,
    rate: roundRate(t.rate),
    created_at: t.createdAt.toISOString(),
  };
}
