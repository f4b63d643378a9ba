import { BusinessRuleError } from '../common/errors/app-error';
import type { Currency } from '../common/money';

export class InsufficientBalanceError extends BusinessRuleError {
  constructor(currency: Currency, field?: string) {
    super(
      'INSUFFICIENT_BALANCE',
      `Insufficient ${currency} balance.`,
      field ? [{ field, message: `exceeds your available ${currency} balance` }] : undefined,
    );
  }
}

export class BalanceLimitError extends BusinessRuleError {
  constructor(currency: Currency) {
    super(
      'BALANCE_LIMIT',
      `This would take the ${currency} balance beyond the largest amount the service holds.`,
    );
  }
}
