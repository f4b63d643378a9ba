import { toMajor } from '../common/money';
import type { LedgerEntryDto, WalletDto } from './dto/wallet.dto';
import type { LedgerEntryEntity } from './ledger-entry.entity';
import type { Balances } from './wallet.service';

export function toWalletDto(b: Balances): WalletDto {
  return {
    usd_balance: toMajor(b.usdAvailable),
    lbp_balance: toMajor(b.lbpAvailable),
    usd_held: toMajor(b.usdHeld),
    lbp_held: toMajor(b.lbpHeld),
  };
}

export function toLedgerEntryDto(e: LedgerEntryEntity): LedgerEntryDto {
  return {
    id: e.id,
    currency: e.currency,
    amount: toMajor(e.amount),
    balance_after: e.balanceAfter === null ? null : toMajor(e.balanceAfter),
    account: e.account,
    kind: e.kind,
    ref_type: e.refType,
    ref_id: e.refId,
    created_at: e.createdAt.toISOString(),
  };
}
