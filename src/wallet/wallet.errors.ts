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
