import { BusinessRuleError, ConflictError, NotFoundError } from '../common/errors/app-error';
import { type Currency, formatMinor } from '../common/money';

export class NoQuoteError extends BusinessRuleError {
  /** `reason`: the machine-readable why, in `details` as `{field: "reference", message: reason}`. */
  constructor(why: string, reason: string) {
    super('NO_QUOTE', `The house cannot quote now: ${why}.`, [{ field: 'reference', message: reason }]);
  }
}

export class ConversionLimitError extends BusinessRuleError {
  constructor(limitUsd: bigint, usedUsd: bigint) {
    const left = limitUsd > usedUsd ? limitUsd - usedUsd : 0n;
    super(
      'LIMIT_EXCEEDED',
      `This conversion would pass your daily conversion limit of ${formatMinor(limitUsd)} USD.`,
      [
        {
          field: 'quote_id',
          message: `at most ${formatMinor(left)} USD more today`,
          value: Number(formatMinor(left)),
        },
      ],
    );
  }
}

export class QuoteNotFoundError extends NotFoundError {
  constructor() {
    super('Quote not found.', 'QUOTE_NOT_FOUND');
  }
}

export class QuoteUsedError extends ConflictError {
  constructor() {
    super('This quote was already used; ask for a new one.', 'QUOTE_USED');
  }
}

export class QuoteExpiredError extends ConflictError {
  constructor() {
    super('This quote has expired; ask for a new one.', 'QUOTE_EXPIRED');
  }
}

export class ConversionAmountError extends BusinessRuleError {
  constructor(message: string) {
    super('AMOUNT_OUT_OF_RANGE', message, [{ field: 'from_amount', message }]);
  }
}

export class HouseLimitError extends BusinessRuleError {
  constructor(currency: Currency, limitUsd: bigint) {
    super(
      'HOUSE_LIMIT',
      `The house cannot take more ${currency} now (its net position is capped at ${formatMinor(limitUsd)} USD); try a smaller amount or later.`,
    );
  }
}
