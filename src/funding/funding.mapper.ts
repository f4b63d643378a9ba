import { toMajor } from '../common/money';
import type { DepositDto, WithdrawalDto } from './dto/funding.dto';
import type { FundingRequestEntity } from './funding-request.entity';

function common(r: FundingRequestEntity) {
  return {
    id: r.id,
    user_id: r.userId,
    currency: r.currency,
    amount: toMajor(r.amount),
    status: r.status,
    note: r.note,
    decided_at: r.decidedAt?.toISOString() ?? null,
    created_at: r.createdAt.toISOString(),
  };
}

export function toDepositDto(r: FundingRequestEntity): DepositDto {
  return { ...common(r), reference: r.reference };
}

export function toWithdrawalDto(r: FundingRequestEntity): WithdrawalDto {
  return { ...common(r), destination: r.destination ?? '' };
}

export type FundingDto = DepositDto | WithdrawalDto;

/** The request in its kind's shape. */
export function toFundingDto(r: FundingRequestEntity): FundingDto {
  return r.kind === 'DEPOSIT' ? toDepositDto(r) : toWithdrawalDto(r);
}
