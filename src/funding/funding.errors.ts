import { BusinessRuleError, ConflictError, NotFoundError } from '../common/errors/app-error';
import { type Currency, formatMinor } from '../common/money';
import type { FundingKind, FundingStatus } from './funding-request.entity';

const noun = (kind: FundingKind): string => (kind === 'DEPOSIT' ? 'deposit' : 'withdrawal');

export class FundingRequestNotFoundError extends NotFoundError {
  constructor(kind: FundingKind) {
    super(`${noun(kind).replace(/^./, (c) => c.toUpperCase())} not found.`, `${kind}_NOT_FOUND`);
  }
}

export class FundingRequestNotPendingError extends ConflictError {
  constructor(kind: FundingKind, status: FundingStatus) {
    super(`This ${noun(kind)} is ${status.toLowerCase()}; only a pending one can change.`, 'NOT_PENDING');
  }
}

export class DailyLimitExceededError extends BusinessRuleError {
  constructor(kind: FundingKind, limitUsd: bigint, usedUsd: bigint) {
    const left = limitUsd > usedUsd ? limitUsd - usedUsd : 0n;
    super(
      'LIMIT_EXCEEDED',
      `This ${noun(kind)} would pass your daily limit of ${formatMinor(limitUsd)} USD (LBP valued at the lowest published mid of the last hour).`,
      [
        {
          field: 'amount',
          message: `at most ${formatMinor(left)} USD more today`,
          value: Number(formatMinor(left)),
        },
      ],
    );
  }
}

export class NoValuationError extends BusinessRuleError {
  constructor(currency: Currency) {
    super(
      'NO_QUOTE',
      `${currency} amounts are valued at the reference rate for the daily limit, and there is neither a reference rate nor an official rate now.`,
      [{ field: 'reference', message: 'too_few_contributors' }],
    );
  }
}
